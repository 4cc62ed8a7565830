"""Raw button edges to actions: debounce, tremor filter, repeat guard, long holds.

Pure and clock-free: every call passes the time, so tests replay scripted edge timelines
exactly. The controller feeds edges in and asks `due()` for the next moment something
could fire (a debounce settling, a hold being reached).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.actions import ButtonEvent
from kiosk.config import GestureConfig, KioskConfig


@dataclass(frozen=True)
class Timings:
    """The [gestures] settings in seconds; their defaults live in the config."""

    debounce_s: float
    min_press_s: float
    repeat_guard_s: float
    hold_s: float

    @classmethod
    def of(cls, config: GestureConfig) -> Timings:
        return cls(config.debounce_ms / 1000, config.min_press_ms / 1000, config.repeat_guard_ms / 1000,
                   config.hold_ms / 1000)


@dataclass(frozen=True)
class Gesture:
    """A recognised gesture: kind is "press" (fired on release) or "hold"."""

    button: str
    kind: str
    t: float


@dataclass
class _Button:
    raw: bool = False            # the last level seen, pressed or not
    raw_since: float = 0.0       # when the raw level last changed
    stable: bool = False         # the debounced level
    pressed_at: float = 0.0      # when the debounced press began (its first edge)
    held: bool = False           # the hold already fired for this press
    last_acted: float | None = None


@dataclass
class Gestures:
    """Turns edges into gestures. `holds` names the buttons that have a hold action:
    only those wait for a hold; the others' presses fire on release whatever their length."""

    timings: Timings
    holds: frozenset[str] = frozenset()
    _buttons: dict[str, _Button] = field(default_factory=dict)

    @classmethod
    def for_config(cls, config: KioskConfig) -> Gestures:
        """The gestures of the configured buttons, with the configured timings."""
        return cls(Timings.of(config.gestures), frozenset(name for name, b in config.buttons.items() if b.hold))

    def edge(self, event: ButtonEvent) -> list[Gesture]:
        """Record an edge; returns gestures that became due up to the edge's time."""
        out = self.advance(event.t)
        b = self._buttons.setdefault(event.button, _Button())
        if event.pressed != b.raw:
            b.raw = event.pressed
            b.raw_since = event.t
        return out

    def advance(self, now: float) -> list[Gesture]:
        """Settle debounces and holds up to `now`."""
        out: list[Gesture] = []
        for name, b in self._buttons.items():
            settle = b.raw_since + self.timings.debounce_s
            if b.raw != b.stable and now >= settle:
                b.stable = b.raw
                if b.stable:
                    b.pressed_at = b.raw_since
                    b.held = False
                else:
                    g = self._released(name, b, b.raw_since)
                    if g:
                        out.append(g)
            if b.stable and not b.held and name in self.holds and now >= b.pressed_at + self.timings.hold_s:
                b.held = True
                b.last_acted = b.pressed_at + self.timings.hold_s
                out.append(Gesture(name, "hold", b.last_acted))
        return out

    def _released(self, name: str, b: _Button, released_at: float) -> Gesture | None:
        if b.held:
            return None
        if released_at - b.pressed_at < self.timings.min_press_s:
            return None                                   # too short: a tremor or a brush
        if b.last_acted is not None and released_at - b.last_acted < self.timings.repeat_guard_s:
            return None                                   # the same button again too soon
        b.last_acted = released_at
        return Gesture(name, "press", released_at)

    def due(self) -> float | None:
        """The next time `advance` could fire something, or None when nothing is pending."""
        times = []
        for name, b in self._buttons.items():
            if b.raw != b.stable:
                times.append(b.raw_since + self.timings.debounce_s)
            elif b.stable and not b.held and name in self.holds:
                times.append(b.pressed_at + self.timings.hold_s)
        return min(times) if times else None
