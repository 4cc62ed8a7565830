"""The care loop's pages: reactions in one tap, the music detective's review, times of day and
the before-a-care-task action, and the care-plan report (page, charts, PDF, CSV).

Views only: the rules are in `content.care`. Staff and family both log reactions and set a
song's detective status for the residents they may see; the schedule, a song's feel, the
care-task action and keeping a song after upsets are staff's.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for

from content import control, curation, library, listings
from content.care import charts, detective, document, modes, reactions, report, table
from content.care.reactions import ReactionKind
from content.db import LibraryError
from content.web.answers import flash_outcome, plain_error
from content.web.guard import resident_song_or_404, resident_view, staff_resident_view
from content.web.request_scope import get_db

bp = Blueprint("care", __name__, template_folder=str(document.TEMPLATES))

CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _role() -> str:
    return "staff" if g.user.is_staff else "family"


def _whole(text: str | None) -> int | None:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


# --- reactions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CarePanel:
    """What the resident's page shows of the care loop."""

    now: reactions.Target | None            # the song the buttons are about
    earlier: list[reactions.Target]
    recent: list[reactions.Reaction]
    upsets: list[reactions.NeverPlaySuggestion]
    positive: tuple[ReactionKind, ...] = reactions.PHONE_POSITIVE
    negative: tuple[ReactionKind, ...] = reactions.PHONE_NEGATIVE


def care_panel(db, resident: library.Resident) -> CarePanel:
    found = reactions.targets(db, resident.id)
    return CarePanel(now=found[0] if found else None, earlier=found[1:],
                     recent=reactions.recent(db, resident.id, limit=5),
                     upsets=reactions.never_play_suggestions(db, resident.id) if g.user.is_staff else [])


@bp.app_template_global()
def reaction_panel(resident: library.Resident) -> CarePanel:
    """For the resident's page: `{% set care = reaction_panel(resident) %}`."""
    return care_panel(get_db(), resident)


@bp.app_template_global()
def detective_statuses() -> list[detective.Detective]:
    return list(detective.Detective)


@bp.route("/residents/<int:rid>/react")
@resident_view
def react(resident):
    """One song's reaction buttons: the first tap chose the song, the second logs."""
    db = get_db()
    found = reactions.targets(db, resident.id)
    wanted = _whole(request.args.get("play"))
    target = next((t for t in found if t.play_id == wanted), None) if wanted else (found[0] if found else None)
    if target is None:
        flash("That song is no longer among the last few plays; here is what played most recently.")
        return redirect(url_for("residents.resident", rid=resident.id) + "#reactions")
    return render_template("react.html", resident=resident, target=target, panel=care_panel(db, resident))


@bp.route("/residents/<int:rid>/reactions", methods=["POST"])
@resident_view
def log_reaction(resident):
    form = request.form
    db = get_db()
    try:
        kind = reactions.kind_of(form.get("kind", ""))
        logged = reactions.record(
            db, resident.id, kind, play_id=_whole(form.get("play_id")), song_id=_whole(form.get("song_id")),
            user_id=g.user.id, by_role=_role(), note=form.get("note", ""),
            note_staff_only=g.user.is_staff and form.get("staff_only") == "1", source=reactions.Source.PHONE)
    except LibraryError as exc:
        return plain_error("Not logged", str(exc), 400)
    assert logged is not None
    if not kind.positive:
        # A hard moment: offer the red flag at once, on its own page.
        return redirect(url_for("care.logged", rid=resident.id, reaction_id=logged.id))
    about = f" during “{logged.title}”" if logged.title else ""
    flash(f"Logged: {resident.name} {kind.past}{about}.")
    return redirect(url_for("residents.resident", rid=resident.id) + "#reactions")


@bp.route("/residents/<int:rid>/reactions/<int:reaction_id>")
@resident_view
def logged(resident, reaction_id: int):
    db = get_db()
    found = reactions.get(db, reaction_id, resident.id)
    if found is None:
        abort(404)
    song = listings.resident_song(db, resident.id, found.song_id) if found.song_id else None
    return render_template("reaction_logged.html", resident=resident, reaction=found, song=song,
                           may_change=reactions.may_change(found, user_id=g.user.id, staff=g.user.is_staff))


@bp.route("/residents/<int:rid>/reactions/<int:reaction_id>/note", methods=["POST"])
@resident_view
def reaction_note(resident, reaction_id: int):
    try:
        reactions.set_note(get_db(), resident.id, reaction_id, request.form.get("note", ""), user_id=g.user.id,
                           staff=g.user.is_staff, staff_only=request.form.get("staff_only") == "1")
    except LibraryError as exc:
        return plain_error("Not saved", str(exc), 400)
    flash("The note is saved.")
    return redirect(url_for("residents.resident", rid=resident.id) + "#reactions")


@bp.route("/residents/<int:rid>/reactions/<int:reaction_id>/remove", methods=["POST"])
@resident_view
def remove_reaction(resident, reaction_id: int):
    try:
        gone = reactions.remove(get_db(), resident.id, reaction_id, user_id=g.user.id, staff=g.user.is_staff)
    except LibraryError as exc:
        return plain_error("Not taken back", str(exc), 400)
    flash(f"Taken back: {gone.kind.words.lower()}.")
    return redirect(url_for("residents.resident", rid=resident.id) + "#reactions")


@bp.route("/residents/<int:rid>/songs/<int:sid>/keep", methods=["POST"])
@staff_resident_view
def keep_song(resident, sid: int):
    """Staff decided a song that upset the resident twice may go on playing."""
    row = resident_song_or_404(resident.id, sid)
    reactions.keep_playing(get_db(), resident.id, sid, user_id=g.user.id)
    flash(f"“{row['title']}” stays in {resident.name}'s music.")
    return redirect(url_for("residents.resident", rid=resident.id) + "#reactions")


# --- the music detective ----------------------------------------------------------------------

@bp.route("/residents/<int:rid>/detective")
@resident_view
def detective_review(resident):
    from content.web.resident_pages import era_suggestions
    db = get_db()
    found = detective.review(db, resident.id)
    return render_template("detective.html", resident=resident, review=found,
                           suggestions=era_suggestions(db, resident))


@bp.route("/residents/<int:rid>/songs/<int:sid>/detective", methods=["POST"])
@resident_view
def set_detective(resident, sid: int):
    row = resident_song_or_404(resident.id, sid)
    try:
        status = detective.status_of(request.form.get("status", ""))
        detective.set_status(get_db(), resident.id, sid, status, user_id=g.user.id, by_role=_role())
    except LibraryError as exc:
        return plain_error("Not saved", str(exc), 400)
    flash(f"“{row['title']}”: {status.words.lower()} ({status.explained}).")
    back = request.form.get("back", "")
    if back == "song":
        return redirect(url_for("songs.song", rid=resident.id, sid=sid))
    return redirect(url_for("care.detective_review", rid=resident.id) + f"#song-{sid}")


# --- times of day -------------------------------------------------------------------------------

@bp.route("/residents/<int:rid>/times")
@resident_view
def times(resident):
    db = get_db()
    songs = listings.resident_song_page(db, resident.id, page_size=1000).rows
    return render_template("times.html", resident=resident, windows=modes.schedule(db, resident.id),
                           pace=modes.pace(db, resident.id), songs=songs, counts=modes.feel_counts(db, resident.id),
                           scheduled=list(modes.SCHEDULED), feels=list(modes.Feel),
                           minutes=modes.CARE_TASK_MINUTES)


@bp.route("/residents/<int:rid>/times", methods=["POST"])
@staff_resident_view
def add_time(resident):
    form = request.form
    def add() -> modes.Window:
        window = modes.make_window(form.get("mode", ""), form.get("start", ""), form.get("end", ""))
        modes.add_window(get_db(), resident.id, window, user_id=g.user.id)
        return window

    if flash_outcome(add, lambda window: f"Added: {window.words}."):
        _tell_kiosk()
    return redirect(url_for("care.times", rid=resident.id))


@bp.route("/residents/<int:rid>/times/<int:index>/remove", methods=["POST"])
@staff_resident_view
def remove_time(resident, index: int):
    if flash_outcome(lambda: modes.remove_window(get_db(), resident.id, index, user_id=g.user.id), "Removed."):
        _tell_kiosk()
    return redirect(url_for("care.times", rid=resident.id))


@bp.route("/residents/<int:rid>/pace", methods=["POST"])
@staff_resident_view
def set_pace(resident):
    form = request.form
    flash_outcome(lambda: modes.set_pace(get_db(), resident.id,
                                         low=curation.parse_whole(form.get("low"), 40, 200, "slowest beat"),
                                         high=curation.parse_whole(form.get("high"), 40, 200, "fastest beat"),
                                         pace=curation.parse_whole(form.get("pace"), 40, 200, "walking pace"),
                                         user_id=g.user.id),
                  "The steady beat is saved.")
    return redirect(url_for("care.times", rid=resident.id))


@bp.route("/residents/<int:rid>/songs/<int:sid>/feel", methods=["POST"])
@staff_resident_view
def set_feel(resident, sid: int):
    resident_song_or_404(resident.id, sid)
    try:
        modes.set_feel(get_db(), resident.id, sid, modes.feel_of(request.form.get("feel", "")), user_id=g.user.id)
    except LibraryError as exc:
        return plain_error("Not saved", str(exc), 400)
    _tell_kiosk()
    return redirect(url_for("care.times", rid=resident.id) + f"#song-{sid}")


def _tell_kiosk() -> None:
    try:
        control.request(current_app.config["SOCKET_PATH"], {"cmd": "library_changed"})
    except control.KioskUnreachable:
        pass


@bp.route("/residents/<int:rid>/care-task", methods=["POST"])
@staff_resident_view
def care_task(resident):
    """Staff are about to help with something hard: calming keepers for half an hour."""
    sock = current_app.config["SOCKET_PATH"]
    try:
        status = control.status(sock).get("status") or {}
        if status.get("resident_id") != resident.id:
            problem = (f"The kiosk is playing for {status.get('resident') or 'nobody'} just now, not {resident.name}. "
                       "Choose their music on the kiosk panel first.")
        else:
            answer = control.press(sock, "care_task")
            problem = None if answer.get("ok") else (answer.get("error") or "The kiosk could not do that.")
    except control.KioskUnreachable as exc:
        problem = f"{exc} The music box may be switched off or starting up."
    flash(problem or f"Calming music for {resident.name} for the next {modes.CARE_TASK_MINUTES} minutes.")
    return redirect(url_for("residents.resident", rid=resident.id))


# --- the report ---------------------------------------------------------------------------------

def _report(resident) -> report.Report:
    args = request.args
    start = report.parse_day(args["from"], "first day") if args.get("from") else None
    end = report.parse_day(args["to"], "last day") if args.get("to") else None
    start, end = report.period(start, end)
    return report.build(get_db(), resident.id, start, end, staff_view=g.user.is_staff)


@bp.errorhandler(report.PeriodError)
def period_problem(exc: report.PeriodError):
    return plain_error("Please check the dates", str(exc), 400)


def _period_args(r: report.Report) -> dict[str, str]:
    return {"from": r.start.isoformat(), "to": r.end.isoformat()}


def _file_name(r: report.Report, ext: str) -> str:
    who = "".join(c if c.isalnum() else "-" for c in r.resident.name).strip("-") or "resident"
    return f"music-care-report-{who}-{r.start.isoformat()}-to-{r.end.isoformat()}.{ext}"


@bp.route("/residents/<int:rid>/report")
@resident_view
def report_page(resident):
    r = _report(resident)
    args = _period_args(r)

    def chart_src(name: str) -> str:
        return url_for("care.report_chart", rid=resident.id, chart=name, **args)

    return render_template("report.html", resident=resident, args=args,
                           **document.template_values(r, chart_src))


@bp.route("/residents/<int:rid>/report/<chart>.svg")
@resident_view
def report_chart(resident, chart: str):
    if chart not in charts.CHARTS:
        abort(404)
    svg = charts.draw(chart, _report(resident))
    resp = current_app.response_class(svg, mimetype="image/svg+xml")
    # The chart's own styles, nothing else: no scripts, no fetches.
    resp.headers["Content-Security-Policy"] = CHART_POLICY
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _download(data: bytes, mimetype: str, name: str, *, attachment: bool):
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=attachment, download_name=name)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/residents/<int:rid>/report.pdf")
@resident_view
def report_pdf(resident):
    r = _report(resident)
    return _download(document.pdf(r), "application/pdf", _file_name(r, "pdf"), attachment=False)


@bp.route("/residents/<int:rid>/report-days.csv")
@resident_view
def report_days_csv(resident):
    r = _report(resident)
    return _download(table.days_csv(r).encode("utf-8"), "text/csv", _file_name(r, "csv"), attachment=True)


@bp.route("/residents/<int:rid>/report-reactions.csv")
@resident_view
def report_reactions_csv(resident):
    r = _report(resident)
    return _download(table.reactions_csv(r).encode("utf-8"), "text/csv",
                     _file_name(r, "csv").replace("report-", "reactions-"), attachment=True)
