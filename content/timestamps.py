"""The library's one way of writing a moment: ISO-8601 in UTC with a Z, so that times
sort as text and compare across the box, the hub and a backup."""
from __future__ import annotations

import datetime as _dt


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def utc_iso(when: _dt.datetime | None = None, *, fraction: bool = True) -> str:
    """`when` (default: now) as 2026-05-01T09:30:00.123456Z; without the fraction of a
    second for names people read (a backup's date)."""
    when = when or utc_now()
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> float:
    """A stored timestamp (with or without its fraction) as seconds since the epoch."""
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
