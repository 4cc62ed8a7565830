"""One resident's song: edit its details, favourite, never play (the red flag), the note
staff read aloud, the year fix, removal; and the stored files themselves."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_from_directory, url_for

from content import control, curation, library, sound
from content.db import LibraryError, write
from content.web.guard import resident_song_or_404, resident_view, song_file_view, staff_resident_view
from content.era.lookalike import find_lookalikes
from content.web.answers import flash_outcome, plain_error, private_file
from content.web import kept_forms
from content.web.request_scope import get_db

bp = Blueprint("songs", __name__)



def tell_kiosk() -> str | None:
    """Ask the kiosk to re-read the library now. Returns a polite sentence when it could
    not be reached; the change is saved either way and the kiosk reads it when it starts.
    On a hub the boxes hear of it through their own channel (content.hub)."""
    if current_app.config.get("HUB"):
        return None
    try:
        control.request(current_app.config["SOCKET_PATH"], {"cmd": "library_changed"})
    except control.KioskUnreachable:
        return "The kiosk is not running just now; it will know when it starts."
    return None


def _list_place(values) -> dict[str, str]:
    """Which page of the list (and which search) a form came from, to go back to it."""
    place = {}
    if (values.get("page") or "").isdigit() and len(values["page"]) <= 6:
        place["page"] = values["page"]
    if values.get("q"):
        place["q"] = values["q"][:100]
    return place


def said_at_song(sid: int, text: str, undo: dict | None = None) -> None:
    """A confirmation for the song list, said at the song it concerns (resident.html shows it
    there, with `undo` = {action, fields, label} as a button)."""
    flash({"sid": sid, "text": text, "undo": undo}, "song")


def _back(resident, sid: int):
    if request.form.get("back", "") == "list":
        return redirect(url_for("residents.resident", rid=resident.id, **_list_place(request.form)) + f"#done-{sid}")
    return redirect(url_for("songs.song", rid=resident.id, sid=sid))


def _undo(resident, sid: int, endpoint: str, label: str, **fields) -> dict:
    return {"action": url_for(endpoint, rid=resident.id, sid=sid), "label": label,
            "fields": {"back": "list", **_list_place(request.form), **fields}}


EDITED = (("title", "the title"), ("artist", "the singer"), ("year", "the year"), ("note", "the note"))


def saved_words(before, after) -> str:
    """Only what was saved: "Saved the year and the note." (or that nothing had changed)."""
    changed = [words for key, words in EDITED if (before[key] or "") != (after[key] or "")]
    if not changed:
        return "Nothing needed saving: it was already like this."
    return "Saved " + (", ".join(changed[:-1]) + " and " + changed[-1] if len(changed) > 1 else changed[0]) + "."


@bp.route("/residents/<int:rid>/songs/<int:sid>", methods=["GET", "POST"])
@resident_view
def song(resident, sid: int):
    """The song's own page: one form for its title, singer, year and note, saved together
    (all of it, or none of it with the words kept in the form and the reason said)."""
    db = get_db()
    row = resident_song_or_404(resident.id, sid)
    error, status, typed = None, 200, None
    if request.method == "POST":
        form = request.form
        typed = {k: form.get(k, "") for k, _ in EDITED}
        try:
            year = curation.parse_year(form.get("year")) if "year" in form else row["year"]
            note = form.get("note", row["note"] or "")
            with write(db):   # every change together, or nothing
                curation.update_entry(db, resident.id, sid, title=form.get("title", row["title"]),
                                      artist=form.get("artist", row["artist"] or ""), year=year, user_id=g.user.id)
                library.set_song_flags(db, resident.id, sid, note=note, user_id=g.user.id)
        except LibraryError as exc:
            error, status = str(exc), 400
        else:
            flash(saved_words(row, resident_song_or_404(resident.id, sid)), "saved")
            return redirect(url_for("songs.song", rid=resident.id, sid=sid))
    else:
        typed = kept_forms.take()
    lookalikes = find_lookalikes(db, g.user, resident.id, title=row["title"], artist=row["artist"],
                                 exclude_song_id=sid)
    values = {k: (row[k] if row[k] is not None else "") for k, _ in EDITED}
    return render_template("song.html", resident=resident, song=row, error=error, lookalikes=lookalikes,
                           values={**values, **(typed or {})},
                           kept=typed is not None and request.method == "GET",
                           tempo=sound.get(db, sid)), (status if error else 200)


@bp.route("/residents/<int:rid>/songs/<int:sid>/favourite", methods=["POST"])
@resident_view
def favourite(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    on = request.form.get("favourite") == "1"
    library.set_song_flags(get_db(), resident.id, sid, favourite=on, user_id=g.user.id)
    text = (f"“{row['title']}” is now one of {resident.name}'s favourites." if on
            else f"“{row['title']}” is no longer a favourite.")
    if request.form.get("back") == "list":
        said_at_song(sid, text, _undo(resident, sid, "songs.favourite", "Undo", favourite="0" if on else "1"))
    else:
        flash(text)
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/never-play", methods=["GET", "POST"])
@resident_view
def never_play(resident, sid: int):
    """GET asks first (and for the reason); POST sets or lifts the red flag."""
    row = resident_song_or_404(resident.id, sid)
    if request.method != "POST":
        kept = kept_forms.take()     # "Yes" was pressed after the session ended: ask again, reason kept
        return render_template("never_play.html", resident=resident, song=row, kept=kept is not None,
                               reason=(kept or {}).get("reason", ""),
                               back=(kept or request.args).get("back", ""), place=_list_place(kept or request.args))
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
    undo = None
    if on:
        msg = f"“{row['title']}” will never play for {resident.name}."
        if changed:
            msg += f" {problem}" if problem else " If it was playing, it has stopped."
            undo = _undo(resident, sid, "songs.never_play", "Undo: let it play again", never_play="0")
    else:
        msg = f"“{row['title']}” can play for {resident.name} again."
        undo = _undo(resident, sid, "songs.never_play", "Undo: never play it", never_play="1",
                     reason=row["never_play_reason"] or "")
    if request.form.get("back") == "list":
        said_at_song(sid, msg, undo)
    else:
        flash(msg)
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/year", methods=["POST"])
@resident_view
def year(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    flash_outcome(lambda: curation.set_year(get_db(), resident.id, sid, curation.parse_year(request.form.get("year")),
                                            user_id=g.user.id),
                  "The year is saved.")
    return _back(resident, sid)


@bp.route("/residents/<int:rid>/songs/<int:sid>/tempo", methods=["POST"])
@staff_resident_view
def tempo(resident, sid: int):
    """Staff correct a measured tempo (the song's audio is shared, so families cannot)."""
    resident_song_or_404(resident.id, sid)
    text = request.form.get("bpm", "").strip()
    try:
        bpm = float(text) if text else None
    except ValueError:
        flash("Please give the beats a minute as a number, like 72.")
        return _back(resident, sid)
    flash_outcome(lambda: sound.set_tempo(get_db(), sid, bpm, user_id=g.user.id),
                  "The tempo is saved." if bpm is not None else "The measured tempo is back.")
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
