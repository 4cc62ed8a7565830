"""Residents: the home list, adding one, a resident's songs, settings, photo, who they are
shared with, and listening history."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, get_flashed_messages, redirect, render_template,
                   request, send_from_directory, url_for)

from content import accounts, curation, library, listings, photos
from content.db import LibraryError
from content.hub import homes
from content.web.guard import accepts_files, login_required, resident_view, staff_required
from content.web.answers import private_file
from content.web import kept_forms
from content.web.request_scope import get_db
from content.web.suggestion_pages import era_suggestions
from content.web.words import ENDED_WORDS, year_sentence

bp = Blueprint("residents", __name__)


bp.app_template_global("year_sentence")(year_sentence)


@bp.app_template_global()
def may_lift_flag(row) -> bool:
    """Whether the person looking may let this never-play song play again."""
    return curation.may_lift_flag(row["never_play"], row.get("never_play_by_role"), by_staff=g.user.is_staff)


@bp.app_template_global()
def song_confirmations() -> dict[int, list[dict]]:
    """What a tap on a song just did, by song id, to say at that song (see song_pages.said_at_song)."""
    found: dict[int, list[dict]] = {}
    for done in get_flashed_messages(category_filter=["song"]):
        if isinstance(done, dict) and isinstance(done.get("sid"), int):
            found.setdefault(done["sid"], []).append(done)
    return found


def _page_number(text: str) -> int:
    """A page number from the address; anything odd is page 1 (ValueError gives the default)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise ValueError(text)
    return int(text)


@bp.route("/")
@login_required
def home():
    db = get_db()
    residents = accounts.residents_for(db, g.user)
    if not g.user.is_staff and len(residents) == 1:
        return redirect(url_for("residents.resident", rid=residents[0].id))
    counts = listings.song_counts(db)
    return render_template("home.html", residents=residents, counts=counts)


@bp.route("/residents/new", methods=["GET", "POST"])
@staff_required
def new_resident():
    error = None
    form = request.form
    db = get_db()
    # On a hub, a resident belongs to a care home: one of the homes this staff member has.
    choices = homes.homes_for(db, g.user.id)
    if request.method == "POST":
        try:
            birth_year = curation.parse_year(form.get("birth_year"), what="birth year")
            home_id = None
            if choices:
                home_id = next((h.id for h in choices if str(h.id) == form.get("home_id", "")), None)
                if home_id is None:
                    raise LibraryError("Please choose the resident's care home.")
            r = library.add_resident(db, form.get("name", ""), birth_year=birth_year)
            if home_id is not None:
                homes.set_resident_home(db, r.id, home_id, user_id=g.user.id)
        except LibraryError as exc:
            error = str(exc)
        else:
            flash(f"{r.name} is added. Next, invite a family member or add songs.")
            return redirect(url_for("residents.resident", rid=r.id))
    return render_template("resident_new.html", error=error, form=form, homes=choices), (400 if error else 200)


@bp.route("/residents/<int:rid>")
@resident_view
def resident(resident):
    db = get_db()
    q = request.args.get("q", "")
    page = request.args.get("page", 1, type=_page_number)
    songs = listings.resident_song_page(db, resident.id, query=q, page=page,
                                     page_size=current_app.config["PAGE_SIZE"])
    return render_template("resident.html", resident=resident, songs=songs, q=q,
                           suggestions=era_suggestions(db, resident) if not q and songs.page == 1 else None)


SETTINGS_WORDS = (("name", "the name"), ("birth_year", "the year of birth"), ("volume_cap", "the loudest volume"),
                  ("session_minutes", "the session length"))


def _saved_settings(before: library.Resident, after: library.Resident, photo: bool) -> str:
    """Only what was saved: "Saved the photo and the year of birth." """
    changed = (["the photo"] if photo else []) + [
        words for key, words in SETTINGS_WORDS if getattr(before, key) != getattr(after, key)]
    if not changed:
        return "Nothing needed saving: it was already like this."
    return "Saved " + (", ".join(changed[:-1]) + " and " + changed[-1] if len(changed) > 1 else changed[0]) + "."


@bp.route("/residents/<int:rid>/settings", methods=["GET", "POST"])
@accepts_files
@resident_view
def settings(resident):
    """One form: the photo and the settings are saved together. Every value is checked
    before anything is stored, so a refused save stores nothing and keeps what was typed."""
    db = get_db()
    error = None
    form = request.form
    if request.method == "POST":
        upload = request.files.get("photo")
        chosen = upload is not None and bool(upload.filename)
        try:
            birth_year = curation.parse_year(form.get("birth_year"), what="birth year")
            if g.user.is_staff:
                # The kiosk's settings name the resident, and loudness and session length
                # are care decisions: staff only.
                name = form.get("name", "")
                volume_cap = curation.parse_whole(form.get("volume_cap"), 5, 100, "loudest volume")
                session_minutes = curation.parse_whole(form.get("session_minutes"), 5, 240, "session length in minutes")
            else:
                name, volume_cap, session_minutes = resident.name, resident.volume_cap, resident.session_minutes
            curation.check_resident_name(db, resident.id, name)
            if chosen:
                photos.set_photo(db, current_app.config["MEDIA_DIR"], resident.id, upload.stream, user_id=g.user.id)
            curation.update_resident(db, resident.id, name=name, birth_year=birth_year, volume_cap=volume_cap,
                                     session_minutes=session_minutes, user_id=g.user.id)
        except LibraryError as exc:
            error = str(exc) + (" Nothing was saved, and the photo needs choosing again." if chosen else
                                " Nothing was saved.")
        else:
            flash(_saved_settings(resident, library.get_resident(db, resident.id), chosen), "saved")
            return redirect(url_for("residents.settings", rid=resident.id))
    else:
        form = kept_forms.take() or {}
    family = accounts.family_of(db, resident.id) if g.user.is_staff else []
    return render_template("resident_settings.html", resident=resident, error=error, form=form, family=family,
                           kept=bool(form) and request.method == "GET"), (400 if error else 200)


@bp.route("/residents/<int:rid>/photo")
@resident_view
def photo(resident):
    """The resident's photo (a new one is chosen on the settings page)."""
    if not resident.photo:
        abort(404)
    return private_file(send_from_directory(current_app.config["MEDIA_DIR"], resident.photo, max_age=3600))


@bp.route("/residents/<int:rid>/family/<int:uid>/remove", methods=["POST"])
@resident_view
def remove_family(resident, uid: int):
    if not g.user.is_staff:
        abort(403)
    user = accounts.get_user(get_db(), uid)
    if user is None or not accounts.unlink_resident(get_db(), uid, resident.id, by=g.user.id):
        abort(404)
    flash(f"{user.name} can no longer see {resident.name}.")
    return redirect(url_for("residents.settings", rid=resident.id))


@bp.route("/residents/<int:rid>/history")
@resident_view
def history(resident):
    plays = listings.recent_plays(get_db(), resident.id)
    return render_template("history.html", resident=resident, plays=plays, ended_words=ENDED_WORDS)
