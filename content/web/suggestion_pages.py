"""Songs to look for: the teenage-years suggestions (behind their own button near the top of
the resident's page), each of which can be marked "we'll look for it", and the list of songs
someone is looking for, so families see what staff asked for. Rules: content.wishes and
content.era.suggestions."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from content import curation, library, listings, wishes
from content.db import LibraryError
from content.web.guard import resident_view
from content.web.request_scope import get_db

bp = Blueprint("suggestions", __name__)

SUGGESTIONS_KEPT = 256


def era_suggestions(db, resident: library.Resident):
    """Songs from the resident's teenage years that are not in their library yet, when the
    era module is installed; None otherwise.

    Working them out takes about 0.1 s for a large library, so the answer is kept on the
    app until the resident's birth year or the titles in their library change (a
    favourite or a red flag does not change what is missing)."""
    try:
        from content.era.suggestions import era_suggestions as suggest
    except ImportError:
        return None
    cache = current_app.extensions.setdefault("evergreen.era_suggestions", {})
    stamp = (resident.id, resident.birth_year, listings.titles_stamp(db, resident.id))
    if stamp not in cache:
        if len(cache) >= SUGGESTIONS_KEPT:
            cache.clear()
        try:
            cache[stamp] = suggest(db, resident.id, limit=20)
        except LibraryError:
            return None
    return cache[stamp]


@bp.app_template_global()
def songs_to_find(resident: library.Resident) -> list[wishes.Wish]:
    """For the resident's page: `{% set looking = songs_to_find(resident) %}`."""
    return wishes.open_wishes(get_db(), resident.id)


@bp.route("/residents/<int:rid>/suggestions")
@resident_view
def suggestions_page(resident):
    db = get_db()
    looking = wishes.open_wishes(db, resident.id)
    wished = {(w.title, w.artist): w for w in looking}
    return render_template("suggestions.html", resident=resident, suggestions=era_suggestions(db, resident),
                           looking=looking, wished=wished)


@bp.route("/residents/<int:rid>/suggestions/look-for", methods=["POST"])
@resident_view
def look_for(resident):
    form = request.form
    try:
        year = curation.parse_year(form.get("year"))
        wish = wishes.ask(get_db(), resident.id, form.get("title", ""), form.get("artist", ""), year,
                          user_id=g.user.id, by_staff=g.user.is_staff)
    except LibraryError as exc:
        flash(str(exc))
        return redirect(url_for("suggestions.suggestions_page", rid=resident.id))
    if g.user.is_staff:
        flash(f"“{wish.title}” is on {resident.name}'s list of songs to look for; the family will see it.")
    else:
        flash(f"“{wish.title}” is on your list of songs to look for.")
    return redirect(url_for("suggestions.suggestions_page", rid=resident.id) + f"#wish-{wish.id}")


@bp.route("/residents/<int:rid>/wishes/<int:wid>/remove", methods=["POST"])
@resident_view
def take_back(resident, wid: int):
    if not wishes.take_back(get_db(), resident.id, wid, g.user):
        abort(404)
    flash("Taken off the list of songs to look for.")
    target = request.form.get("back") == "resident"
    return redirect(url_for("residents.resident", rid=resident.id) if target
                    else url_for("suggestions.suggestions_page", rid=resident.id))
