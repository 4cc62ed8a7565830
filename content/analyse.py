"""Measuring the songs already in a library: those added before loudness and tempo were
measured at ingest, or measured by an older version. `python -m content analyse` does it
with a progress bar; the admin does it quietly in the background when it starts.

Decoding runs in the probe's child processes, several at once; rows are written from the
calling thread only, in small transactions, so the kiosk and the admin never wait long.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlite_utils

from content import sound
from content.db import connect
from content.probe import ProbeResult, ProberPool

log = logging.getLogger("evergreen.analyse")


@dataclass(frozen=True)
class Pending:
    song_id: int
    filename: str
    name: str


@dataclass(frozen=True)
class Outcome:
    song_id: int
    name: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def pending(db: sqlite_utils.Database, *, everything: bool = False) -> list[Pending]:
    names = {r[0]: r[1] for r in db.execute("SELECT id, title FROM songs")}
    return [Pending(sid, filename, names.get(sid, "")) for sid, filename in sound.unanalysed(db, everything=everything)]


def run(
    db: sqlite_utils.Database,
    media_dir: Path,
    todo: list[Pending],
    *,
    pool: ProberPool,
    on_outcome: Callable[[Outcome], None] | None = None,
    stop: threading.Event | None = None,
) -> list[Outcome]:
    """Measure and record each song in `todo`; a song whose file is gone or will not
    decode is reported and left unmeasured."""
    outcomes: list[Outcome] = []

    def measure(item: Pending) -> ProbeResult | None:
        if stop is not None and stop.is_set():
            return None
        path = Path(media_dir) / item.filename
        if not path.is_file():
            return None
        with pool.prober() as prober:
            return prober.probe(path)

    with ThreadPoolExecutor(max_workers=pool.size, thread_name_prefix="analyse") as workers:
        futures = {workers.submit(measure, item): item for item in todo}
        for future in as_completed(futures):
            item = futures[future]
            if stop is not None and stop.is_set():
                break
            outcome = _record(db, item, future.result(), Path(media_dir))
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        for future in futures:
            future.cancel()
    return outcomes


def _record(db: sqlite_utils.Database, item: Pending, probe: ProbeResult | None, media_dir: Path) -> Outcome:
    if probe is None:
        return Outcome(item.song_id, item.name, "its file is missing from the media folder")
    if probe.error is not None:
        return Outcome(item.song_id, item.name, probe.error.words)
    if probe.analysis is None:
        return Outcome(item.song_id, item.name, "no sound could be decoded from it")
    sound.record(db, item.song_id, probe.analysis)
    return Outcome(item.song_id, item.name)


def in_background(db_path: Path, media_dir: Path, stop: threading.Event, *, workers: int = 1,
                  nice: int = 10) -> None:
    """The admin's quiet pass at start: one child at low priority, so a Raspberry Pi's
    kiosk keeps playing smoothly while an old library is measured."""
    try:
        db = connect(db_path)
        try:
            todo = pending(db)
            if not todo:
                return
            log.info("Measuring the loudness and tempo of %d songs in the background.", len(todo))
            with ProberPool(workers, nice=nice) as pool:
                done = run(db, media_dir, todo, pool=pool, stop=stop)
            log.info("Measured %d of %d songs.", sum(o.ok for o in done), len(todo))
        finally:
            db.close()
    except Exception:  # a failure here must never stop the admin
        log.exception("Could not measure songs in the background")
