"""The kiosk seen from the admin: what is playing now, and a big-button panel that sends
the same actions as the physical buttons, through the kiosk's control socket.

Each page has a part that follows the kiosk (`..._part` routes give it alone): the page's
script fetches it every few seconds and puts it in place, so nothing reloads under a finger."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from content import control
from content.web.guard import resident_view, staff_required
from content.web.answers import wants_json
from content.web.request_scope import get_db

bp = Blueprint("kiosk", __name__)

DEFAULT_ACTIONS = ("play", "previous", "next", "volume_down", "volume_up")
LABELS = {
    "play": "Play",
    "stop": "Stop",
    "next": "Next song",
    "previous": "Previous song",
    "volume_up": "Louder",
    "volume_down": "Quieter",
    "care_task": "Before a care task",
    "react": "Something good",
}
_ACTION = re.compile(r"^[A-Za-z0-9_:.\-]{1,60}$")
QUIET_WORDS = {"stopped": "Stopped", "playing": "Playing", "paused": "Paused"}


def read_status() -> tuple[dict[str, Any] | None, str | None]:
    """The kiosk's status, or a polite sentence saying why there is none."""
    try:
        answer = control.status(current_app.config["SOCKET_PATH"])
    except control.KioskUnreachable as exc:
        return None, f"{exc} The music box may be switched off or starting up."
    if not answer.get("ok"):
        return None, answer.get("error") or "The kiosk did not say what it is doing."
    return answer.get("status") or {}, None


def actions_of(status: dict[str, Any] | None) -> list[str]:
    """The actions the kiosk offers: what its status lists, else the usual five."""
    buttons = (status or {}).get("buttons")
    found: list[str] = []
    if isinstance(buttons, dict):
        buttons = list(buttons.values())
    for b in buttons or []:
        action = b.get("action") if isinstance(b, dict) else b
        if isinstance(action, str) and _ACTION.match(action) and action not in found:
            found.append(action)
    return found or list(DEFAULT_ACTIONS)


def label(action: str) -> str:
    if action in LABELS:
        return LABELS[action]
    kind, _, value = action.partition(":")
    if kind == "decade" and value:
        return f"Songs from the {value}s"
    if kind == "resident" and value:
        return f"{value}'s music"
    return action.replace("_", " ").replace(":", " ").capitalize()


def resident_name(status: dict[str, Any] | None) -> str | None:
    who = (status or {}).get("resident")
    if isinstance(who, dict):
        who = who.get("name")
    return who if isinstance(who, str) else None


def clock(seconds: Any) -> str:
    try:
        s = max(0, int(float(seconds)))
    except (TypeError, ValueError, OverflowError):
        return ""
    return f"{s // 60}:{s % 60:02d}"


@bp.app_template_global()
def kiosk_clock(seconds: Any) -> str:
    return clock(seconds)


def _panel_view() -> dict[str, Any]:
    status, problem = read_status()
    return dict(status=status, problem=problem, actions=[(a, label(a)) for a in actions_of(status)],
                who=resident_name(status))


@bp.route("/kiosk")
@staff_required
def panel():
    if current_app.config.get("HUB"):
        return redirect(url_for("hub.homes_page"))   # on a hub, each box has its own panel
    return render_template("kiosk.html", **_panel_view())


@bp.route("/kiosk/part")
@staff_required
def panel_part():
    return render_template("_kiosk_part.html", **_panel_view())


@bp.route("/kiosk/press", methods=["POST"])
@staff_required
def press():
    action = request.form.get("action", "")
    status, problem = read_status()
    if problem is None and action not in actions_of(status):
        problem = "That button is not one the kiosk knows."
    if problem is None:
        try:
            answer = control.press(current_app.config["SOCKET_PATH"], action)
        except control.KioskUnreachable as exc:
            problem = str(exc)
        else:
            if not answer.get("ok"):
                problem = answer.get("error") or "The kiosk could not do that."
    if wants_json():
        return ({"ok": False, "error": problem}, 503) if problem else {"ok": True, "said": f"Sent: {label(action)}."}
    flash(problem or f"Sent: {label(action)}.")
    return redirect(url_for("kiosk.panel"))


def _now_playing_view(resident) -> dict[str, Any]:
    if current_app.config.get("HUB"):
        from content.web.hub_pages import resident_now_playing
        status, problem = resident_now_playing(get_db(), resident.id)
        return dict(resident=resident, status=status, problem=problem)
    status, problem = read_status()
    # Compared by id: names can change, and differ only in case or accents.
    if status is not None and status.get("resident_id") != resident.id:
        # The kiosk is playing for someone else: say nothing about them.
        status = None
        problem = f"The kiosk is not playing {resident.name}'s music just now."
    return dict(resident=resident, status=status, problem=problem)


@bp.route("/residents/<int:rid>/now-playing")
@resident_view
def now_playing(resident):
    return render_template("now_playing.html", **_now_playing_view(resident))


@bp.route("/residents/<int:rid>/now-playing/part")
@resident_view
def now_playing_part(resident):
    return render_template("_now_playing_part.html", **_now_playing_view(resident))
