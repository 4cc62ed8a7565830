"""One resident's song: edit its details, favourite, never play (the red flag), the note
staff read aloud, the year fix, removal; and the stored files themselves."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_from_directory, url_for

from content import control, curation, library
from content.db import LibraryError, write
from content.web.guard import resident_song_or_404, resident_view, song_file_view
from content.era.lookalike import find_lookalikes
from content.web.answers import plain_error, private_file
from content.web.request_scope import get_db
from content.web.words import YEAR_SOURCE_WORDS

bp = Blueprint("songs", __name__)



def tell_kiosk() -> str | None:
    """Ask the kiosk to re-read the library now. Returns a polite sentence when it could
    not be reached; the change is saved either way and the kiosk reads it when it starts."""
    try:
        control.request(current_app.config["SOCKET_PATH"], {"cmd": "library_changed"})
    except control.KioskUnreachable:
        return "The kiosk is not running just now; it will know when it starts."
    return None


def _back(resident, sid: int):
    target = request.form.get("back", "")
    if target == "list":
        return redirect(url_for("residents.resident", rid=resident.id) + f"#song-{sid}")
    return redirect(url_for("songs.song", rid=resident.id, sid=sid))


@bp.route("/residents/<int:rid>/songs/<int:sid>", methods=["GET", "POST"])
@resident_view
def song(resident, sid: int):
    db = get_db()
    row = resident_song_or_404(resident.id, sid)
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            # The year has its own quick form above; this one may leave it out.
            year = curation.parse_year(form.get("year")) if "year" in form else row["year"]
            note = form.get("note", "")
            with write(db):   # both changes together, or nothing
                curation.update_entry(db, resident.id, sid, title=form.get("title", ""), artist=form.get("artist", ""),
                                      year=year, user_id=g.user.id)
                library.set_song_flags(db, resident.id, sid, note=note, user_id=g.user.id)
        except LibraryError as exc:
            error, status = str(exc), 400
        else:
            flash("Saved.")
            return redirect(url_for("songs.song", rid=resident.id, sid=sid))
    lookalikes = find_lookalikes(db, g.user, resident.id, title=row["title"], artist=row["artist"],
                                 exclude_song_id=sid)
    return render_template("song.html", resident=resident, song=row, error=error, lookalikes=lookalikes,
                           source_words=YEAR_SOURCE_WORDS), (status if error else 200)


@bp.route("/residents/<int:rid>/songs/<int:sid>/favourite", methods=["POST"])
@resident_view
def favourite(resident, sid: int):
    resident_song_or_404(resident.id, sid)
    on = request.form.get("favourite") == "1"
    library.set_song_flags(get_db(), resident.id, sid, favourite=on, user_id=g.user.id)
    flash("Marked as a favourite." if on else "No longer a favourite.")
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/never-play", methods=["POST"])
@resident_view
def never_play(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    on = request.form.get("never_play", "1") == "1"
    reason = request.form.get("reason", "")
    try:
        changed = curation.set_red_flag(get_db(), resident.id, sid, on=on, reason=reason, user_id=g.user.id,
                                     by_staff=g.user.is_staff, resident_name=resident.name)
    except curation.StaffFlag as exc:
        return plain_error("Only staff can change this", str(exc), 403)
    except LibraryError as exc:
        return plain_error("Not saved", str(exc), 400)
    problem = tell_kiosk() if changed else None
    if on:
        msg = f"“{row['title']}” will never play for {resident.name}."
        if changed:
            msg += f" {problem}" if problem else " If it was playing, it has stopped."
    else:
        msg = f"“{row['title']}” can play for {resident.name} again."
    flash(msg)
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/year", methods=["POST"])
@resident_view
def year(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    try:
        new_year = curation.parse_year(request.form.get("year"))
        curation.set_year(get_db(), resident.id, sid, new_year, user_id=g.user.id)
    except LibraryError as exc:
        flash(str(exc))
    else:
        flash("The year is saved.")
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/remove", methods=["POST"])
@resident_view
def remove(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    curation.remove_from_resident(get_db(), current_app.config["MEDIA_DIR"], resident.id, sid, user_id=g.user.id)
    tell_kiosk()
    flash(f"“{row['title']}” is no longer in {resident.name}'s songs.")
    return redirect(url_for("residents.resident", rid=resident.id))


@bp.route("/media/<name>")
@song_file_view
def media(name: str):
    # send_from_directory refuses anything that would leave the media folder.
    return private_file(send_from_directory(current_app.config["MEDIA_DIR"], name, max_age=3600, conditional=True))
