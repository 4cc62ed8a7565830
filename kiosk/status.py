"""What the kiosk is doing, as one value: the admin's now-playing page and panel, `python -m
kiosk status` and the tests all read this shape (as JSON through the control socket)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import sqlite_utils

from content import library

if TYPE_CHECKING:
    from kiosk.mixer import Mixer
    from kiosk.playback import Playback
    from kiosk.session import Session
    from kiosk.tracklist import Tracklist


@dataclass(frozen=True)
class NowPlaying:
    id: int
    title: str
    artist: str
    year: int | None


@dataclass(frozen=True)
class KioskStatus:
    state: str                          # a kiosk.playback.PlaybackState
    resident: str | None
    resident_id: int | None
    song: NowPlaying | None
    position: float                     # seconds into the song
    duration: float | None
    volume: int
    volume_cap: int
    session_left: int | None            # seconds until the session fades out; None: no session running
    quiet_reason: str | None            # why nothing can play, in words for staff
    decade: int | None
    buttons: list[str]                  # the actions the admin's panel may offer
    mode: str = "usual"                 # a content.care.modes.Mode: the time of day, or a care task
    care_task_left: int | None = None   # seconds of calming music left before a care task

    @classmethod
    def of(cls, db: sqlite_utils.Database, playback: "Playback", session: "Session", mixer: "Mixer",
           tracklist: "Tracklist", now: float, panel: Sequence[str]) -> "KioskStatus":
        """The parts' state at `now`, with the buttons the admin's panel may offer: the
        panel's own, a decade for each of the resident's decades, and each resident."""
        current, resident = playback.current, session.resident
        decades = library.decades(db, resident.id) if resident else []
        names = [r.name for r in library.list_residents(db)]
        left = session.left(now)
        return cls(
            state=playback.state, resident=resident.name if resident else None,
            resident_id=resident.id if resident else None,
            song=None if current is None else NowPlaying(current.song.id, current.song.title,
                                                          current.song.artist, current.song.year),
            position=round(current.position, 1) if current else 0.0,
            duration=round(current.song.duration, 1) if current else None,
            volume=round(mixer.level), volume_cap=round(mixer.cap),
            session_left=round(left) if left is not None else None,
            quiet_reason=session.quiet_reason, decade=tracklist.decade,
            buttons=list(panel) + [f"decade:{d}" for d in decades] + [f"resident:{n}" for n in names],
            mode=str(tracklist.mode),
            care_task_left=round(max(0.0, session.care_until - now)) if session.care_until is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["state"] = str(self.state)
        return out
