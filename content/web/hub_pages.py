"""The hub's pages for staff (hub mode only): care homes, their music boxes, pairing codes,
which residents a box plays for, revoking a box, and each box's panel and now playing,
which travel through the box's own channel (content.web.box_api). Views only."""
from __future__ import annotations

import datetime as _dt

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from content.db import LibraryError
from content.hub import boxes, homes
from content.web.answers import flash_outcome, wants_json
from content.web.guard import staff_required
from content.web.kiosk_pages import DEFAULT_ACTIONS, label
from content.web.request_scope import get_db

bp = Blueprint("hub", __name__, url_prefix="/hub")


def _waiting() -> set[int]:
    return current_app.extensions["evergreen.watch"].waiting_boxes()


def _box_or_404(bid: int) -> boxes.Box:
    db = get_db()
    try:
        box = boxes.get_box(db, bid)
    except LibraryError:
        abort(404)
    if not homes.may_manage_home(db, g.user.id, box.home_id):
        abort(404)
    return box


def _hub_address() -> str:
    """The address a box joins, from the configured public address (never the request's)."""
    return current_app.config.get("PUBLIC_URL") or "https://YOUR-HUB"


def ago(stamp: str | None) -> str:
    """'2 minutes ago', for a person glancing at the page."""
    if not stamp:
        return "never"
    try:
        then = _dt.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return "unknown"
    s = max(0, int((_dt.datetime.now(_dt.timezone.utc) - then).total_seconds()))
    for size, word in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if s >= size:
            n = s // size
            return f"{n} {word}{'s' if n != 1 else ''} ago"
    return "just now"


def _view(box: boxes.Box, waiting: set[int]) -> dict:
    online = boxes.is_online(box, waiting)
    return {"box": box, "online": online, "seen": "online now" if online else f"last seen {ago(box.last_seen_at)}",
            "playing": box.now_playing if online or box.now_playing else None}


def _boxes_by_home(home_ids: set[int]) -> dict[int, list[dict]]:
    waiting = _waiting()
    by_home: dict[int, list[dict]] = {hid: [] for hid in home_ids}
    for box in boxes.list_boxes(get_db(), home_ids):
        by_home[box.home_id].append(_view(box, waiting))
    return by_home


@bp.route("/")
@staff_required
def homes_page():
    db = get_db()
    mine = homes.homes_for(db, g.user.id)
    return render_template("hub_homes.html", homes=mine, by_home=_boxes_by_home({h.id for h in mine}),
                           group_staff=homes.home_ids_of(db, g.user.id) is None)


@bp.route("/homes/<int:hid>/part")
@staff_required
def home_part(hid: int):
    """One home's music boxes alone, for the homes page to follow them in place (live.js)."""
    home = next((h for h in homes.homes_for(get_db(), g.user.id) if h.id == hid), None)
    if home is None:
        abort(404)
    return render_template("_hub_homes_part.html", h=home, by_home=_boxes_by_home({hid}))


@bp.route("/homes", methods=["POST"])
@staff_required
def add_home():
    db = get_db()
    if homes.home_ids_of(db, g.user.id) is not None:
        abort(403)
    flash_outcome(lambda: homes.add_home(db, request.form.get("name", ""), user_id=g.user.id),
                  lambda home: f"{home.name} is added. Next, add its residents and a music box.")
    return redirect(url_for("hub.homes_page"))


@bp.route("/homes/<int:hid>/boxes", methods=["POST"])
@staff_required
def add_box(hid: int):
    db = get_db()
    if not homes.may_manage_home(db, g.user.id, hid):
        abort(404)
    try:
        box = boxes.add_box(db, hid, request.form.get("name", ""), user_id=g.user.id)
    except LibraryError as exc:
        flash(str(exc))
        return redirect(url_for("hub.homes_page"))
    code = boxes.new_pairing_code(db, box.id, user_id=g.user.id)
    return render_template("hub_code.html", box=box, code=code, minutes=boxes.CODE_MINUTES,
                           hub=_hub_address())


def _box_view(box: boxes.Box) -> dict:
    """What the box page and its part show: the box, what it plays for whom, its panel."""
    residents = homes.residents_of_home(get_db(), box.home_id)
    names = {r.id: r.name for r in residents}
    view = _view(box, _waiting())
    playing = view["playing"] or {}
    return dict(v=view, residents=residents, playing_for=names.get(playing.get("resident_id")),
                actions=[(a, label(a)) for a in DEFAULT_ACTIONS])


@bp.route("/boxes/<int:bid>")
@staff_required
def box_page(bid: int):
    box = _box_or_404(bid)
    on_box = {r.id for r in boxes.residents_of(get_db(), box.id)}
    return render_template("hub_box.html", on_box=on_box, **_box_view(box))


@bp.route("/boxes/<int:bid>/part")
@staff_required
def box_part(bid: int):
    """The box's state and panel alone, for its page to follow the box in place (live.js)."""
    return render_template("_hub_box_part.html", **_box_view(_box_or_404(bid)))


@bp.route("/boxes/<int:bid>/code", methods=["POST"])
@staff_required
def new_code(bid: int):
    box = _box_or_404(bid)
    try:
        code = boxes.new_pairing_code(get_db(), box.id, user_id=g.user.id)
    except LibraryError as exc:
        flash(str(exc))
        return redirect(url_for("hub.box_page", bid=box.id))
    return render_template("hub_code.html", box=box, code=code, minutes=boxes.CODE_MINUTES,
                           hub=_hub_address())


@bp.route("/boxes/<int:bid>/residents", methods=["POST"])
@staff_required
def set_residents(bid: int):
    box = _box_or_404(bid)
    wanted = []
    for text in request.form.getlist("resident"):
        if text.isascii() and text.isdigit() and len(text) <= 12:
            wanted.append(int(text))
    flash_outcome(lambda: boxes.assign(get_db(), box.id, wanted, user_id=g.user.id),
                  "Saved. The music box will have these residents' songs within a minute while it is online.")
    return redirect(url_for("hub.box_page", bid=box.id))


@bp.route("/boxes/<int:bid>/revoke", methods=["POST"])
@staff_required
def revoke(bid: int):
    box = _box_or_404(bid)
    boxes.revoke(get_db(), box.id, user_id=g.user.id)
    flash(f"{box.name} is revoked: it keeps playing what it has, but gets nothing new.")
    return redirect(url_for("hub.box_page", bid=box.id))


@bp.route("/boxes/<int:bid>/press", methods=["POST"])
@staff_required
def press(bid: int):
    box = _box_or_404(bid)
    action = request.form.get("action", "")
    problem, said = None, None
    if action not in DEFAULT_ACTIONS and action != "stop":
        problem = "That button is not one the music box knows."
    elif box.revoked:
        problem = "This music box was revoked."
    else:
        boxes.add_command(get_db(), box.id, action, user_id=g.user.id)
        online = boxes.is_online(box, _waiting())
        said = (f"Sent: {label(action)}." if online else
                f"Sent: {label(action)}. The box is not online just now, so it will not act on it "
                "unless it comes back within two minutes.")
    if wants_json():   # a press sent in place from the box's page (live.js)
        return ({"ok": False, "error": problem}, 400) if problem else {"ok": True, "said": said}
    flash(problem or said)
    return redirect(url_for("hub.box_page", bid=box.id))


def resident_now_playing(db, resident_id: int) -> tuple[dict | None, str | None]:
    """What a box the resident is on reports playing for them (hub mode's now playing)."""
    waiting = _waiting()
    for box in boxes.boxes_of_resident(db, resident_id):
        playing = box.now_playing or {}
        if playing.get("resident_id") == resident_id and boxes.is_online(box, waiting):
            return playing, None
    return None, "The music box is not playing this resident's music just now."

