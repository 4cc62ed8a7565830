"""What a button can ask for, and the raw events that inputs produce.

Every input (GPIO, USB keys, the terminal, the control socket) ends up as either a
`ButtonEvent` (an edge, for the gesture recogniser) or an `Action` (already a decision).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from kiosk.config import ButtonConfig

# react: "something good" for the song playing (for staff sitting with a resident);
# care_task: calming keepers for half an hour before a hard care task, then stop.
SIMPLE = ("play", "stop", "next", "previous", "volume_up", "volume_down", "shutdown", "react", "care_task")
WITH_ARGUMENT = ("resident", "decade")
PANEL_BUTTONS = ("play", "stop", "next", "previous", "volume_up", "volume_down", "care_task")
PHYSICAL = "button "         # the source of an action from a physical button's gesture


class ActionError(ValueError):
    """An action name that the kiosk does not know; the message says so plainly."""


@dataclass(frozen=True)
class Action:
    name: str
    arg: str = ""
    source: str = ""

    def __str__(self) -> str:
        return f"{self.name}:{self.arg}" if self.name in WITH_ARGUMENT else self.name


@dataclass(frozen=True)
class ButtonEvent:
    """A raw edge from a physical button: pressed=True when it went down. `t` is
    time.monotonic() when the edge was seen."""

    button: str
    pressed: bool
    t: float


def parse_action(text: str, source: str = "") -> Action:
    text = text.strip()
    name, sep, arg = text.partition(":")
    name = name.strip().lower().replace("-", "_")
    if not sep:
        if name in SIMPLE:
            return Action(name, "", source)
        if name in WITH_ARGUMENT:
            raise ActionError(f"'{text}' needs a value after a colon, e.g. {name}:{_example(name)}.")
        raise ActionError(f"'{text}' is not something the kiosk can do.")
    arg = arg.strip()
    if name == "playlist":
        raise ActionError(f"'{text}': playlists are not available yet. A button can play a resident's "
                          "music (resident:Mary) or a decade (decade:1950).")
    if name not in WITH_ARGUMENT:
        raise ActionError(f"'{text}' is not something the kiosk can do.")
    if name == "decade":
        if arg.lower() in ("", "all", "off"):
            return Action("decade", "", source)
        digits = arg.rstrip("s")
        if not (digits.isdigit() and len(digits) == 4 and int(digits) % 10 == 0):
            raise ActionError(f"'{text}': a decade is written like decade:1950.")
        return Action("decade", digits, source)
    if not arg:
        raise ActionError(f"'{text}' needs a value after the colon, e.g. {name}:{_example(name)}.")
    return Action(name, " ".join(arg.split()), source)


def for_press(buttons: Mapping[str, "ButtonConfig"], text: str, source: str) -> Action:
    """A button's name (its press action) or an action written out, from the panel,
    terminal or CLI. Raises ActionError for a name the kiosk does not know, and for a
    shutdown: only a long hold on the box itself powers it off, nothing on the network or
    the control socket can."""
    button = buttons.get(text)
    if button is not None and not button.press:
        raise ActionError(f"The {text} button has no press action.")
    action = parse_action(button.press if button is not None else text, source)
    if action.name == "shutdown":
        raise ActionError("Powering off is done on the box itself, by holding the staff button.")
    return action


def for_gesture(buttons: Mapping[str, "ButtonConfig"], button: str, kind: str) -> Action | None:
    """What a recognised press or hold on a physical button asks for (None: nothing)."""
    config = buttons.get(button)
    text = (config.press if kind == "press" else config.hold) if config else ""
    return parse_action(text, source=f"{PHYSICAL}{button}") if text else None


def _example(name: str) -> str:
    return {"resident": "Mary", "decade": "1950"}[name]
