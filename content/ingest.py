"""How every song enters the library: the CLI import, the admin's upload, the demo songs.

One path for all of them, so every song in the library has passed the same checks: it is
a plain file (a named pipe or a device is skipped without ever being opened for long),
it is not plainly something else (a photo, a PDF), our own player decodes real sound from
all of it, that sound is long enough and not silence, and it is stored once under its
SHA-256, with the extension of its real format, before its row is written. The same
decoding measures its loudness and tempo (content.analysis), stored with the row. On any
refusal nothing is left behind.

`ingest_many` runs the decoding of several files at once (one child process per core)
while the main thread copies the next files in and writes rows in order.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Literal

import sqlite_utils

from content import formats, library, media, sound, storage, tags
from content.db import write
from content.era import names
from content.probe import MAX_SECONDS, ProbeResult, Prober, ProberPool
from content.timestamps import utc_iso

MIN_SECONDS = 10.0
MAX_BYTES = media.LARGEST_SONG_BYTES
CUT_SHORT_RATIO = 0.9               # decoded under 90 % of what the header claims: truncated
SILENT_LUFS = -60.0                 # a whole song quieter than this is silence (or only hiss)
MIN_SOUND_SECONDS = 1.0             # and so is one with less than this much sound in it

FULL_DISK = storage.FULL_WORDS
NO_SOUND = "This file has no sound in it."


@dataclass
class IngestResult:
    status: Literal["added", "duplicate", "refused"]
    name: str                              # what the person called the file, safe to show
    song_id: int | None = None
    reason: str | None = None              # plain words, when refused
    title: str = ""
    artist: str = ""
    year: int | None = None

    def line(self) -> str:
        """One line for a person: 'added: Vera Lynn – We'll Meet Again (1942)'."""
        if self.status == "refused":
            return f"refused: {self.name}: {self.reason}"
        what = " – ".join(x for x in (self.artist, self.title) if x) or self.name
        if self.year:
            what += f" ({self.year})"
        if self.status == "duplicate":
            return f"duplicate: {self.name} is already in the library as {what}"
        return f"added: {what}"


@dataclass
class _Checking:
    """A file copied into media/.incoming, waiting for its decoding to finish."""

    name: str
    resident_id: int | None
    user_id: int | None
    min_seconds: float
    incoming: media.Incoming
    held: contextlib.ExitStack               # the media folder's shared lock and the scratch file
    info: tags.FileInfo | None
    identity: formats.Identity


def special_file(path: str | Path) -> str | None:
    """Why `path` is not a plain file (a named pipe, a device, a socket, a folder), in
    plain words; None for a plain file. Looked at with lstat/stat only: opening a named
    pipe would wait for a writer forever."""
    try:
        mode = os.stat(path).st_mode            # follows a link, never opens
    except FileNotFoundError:
        return "There is no file or folder there."
    except OSError:
        return "The file could not be read."
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "This is a folder, not a file."
    if stat.S_ISFIFO(mode):
        return "This is a named pipe, not a file, so it was skipped."
    if stat.S_ISSOCK(mode):
        return "This is a socket, not a file, so it was skipped."
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "This is a device, not a file, so it was skipped."
    return "This is not a plain file, so it was skipped."


def _open_plain(path: Path) -> BinaryIO | str:
    """Open `path` for reading only if it is a plain file; otherwise say why not. The
    open never blocks (O_NONBLOCK), and what was opened is checked again, in case the
    name was swapped for a pipe after it was looked at."""
    why = special_file(path)
    if why is not None:
        return why
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return "The file could not be read."
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return "This is not a plain file, so it was skipped."
    return os.fdopen(fd, "rb")


def ingest_file(
    db: sqlite_utils.Database,
    media_dir: str | Path,
    path: str | Path,
    *,
    resident_id: int | None = None,
    original_name: str | None = None,
    user_id: int | None = None,
    min_seconds: float | None = None,
    max_bytes: int | None = MAX_BYTES,
    prober: Prober | None = None,
) -> IngestResult:
    """Check, store and record one file. Never raises for bad input: a refused file comes
    back with status "refused" and a reason a family member can read."""
    own_prober = prober is None
    prober = prober or Prober()
    try:
        step = _begin(db, Path(media_dir), Path(path), original_name, resident_id, user_id, min_seconds, max_bytes)
        if isinstance(step, IngestResult):
            return step
        return _finish(db, Path(media_dir), step, lambda: _decode(prober, step))
    finally:
        if own_prober:
            prober.close()


def ingest_many(
    db: sqlite_utils.Database,
    media_dir: str | Path,
    paths: Iterable[Path | tuple[Path, str]],
    *,
    pool: ProberPool,
    resident_id: int | None = None,
    user_id: int | None = None,
    min_seconds: float | None = None,
    max_bytes: int | None = MAX_BYTES,
    on_result: Callable[[Path, IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest many files, decoding up to `pool.size` at once. Results (and `on_result`
    calls) come in the order of `paths`; rows are written from this thread only.
    `paths` may pair each path with the name the person gave the file."""
    media_dir = Path(media_dir)
    results: list[IngestResult] = []
    waiting: deque[tuple[Path, _Checking | IngestResult, Future[ProbeResult] | None]] = deque()

    def settle_oldest() -> None:
        path, step, future = waiting.popleft()
        if isinstance(step, IngestResult):
            result = step
        else:
            assert future is not None
            result = _finish(db, media_dir, step, future.result)
        results.append(result)
        if on_result is not None:
            on_result(path, result)

    def decode(step: _Checking) -> ProbeResult:
        with pool.prober() as prober:
            return _decode(prober, step)

    with ThreadPoolExecutor(max_workers=pool.size, thread_name_prefix="ingest") as decoders:
        try:
            for item in paths:
                path, given = item if isinstance(item, tuple) else (item, None)
                step = _begin(db, media_dir, Path(path), given, resident_id, user_id, min_seconds, max_bytes)
                future = None if isinstance(step, IngestResult) else decoders.submit(decode, step)
                waiting.append((Path(path), step, future))
                while len(waiting) > 2 * pool.size:
                    settle_oldest()
            while waiting:
                settle_oldest()
        finally:
            for _, step, future in waiting:            # interrupted: leave nothing behind
                if future is not None:
                    future.cancel()
                if isinstance(step, _Checking):
                    step.held.close()
    return results


def _refuse(name: str, reason: str) -> IngestResult:
    return IngestResult("refused", name, reason=reason)


def _begin(db, media_dir: Path, path: Path, original_name: str | None, resident_id: int | None,
           user_id: int | None, min_seconds: float | None, max_bytes: int | None) -> IngestResult | _Checking:
    """Everything before decoding: open, copy in, hash, spot duplicates and files that are
    plainly not songs. Returns a finished result, or a file to decode."""
    name = tags.display_text(original_name or path.name) or "the file"
    try:
        return _copy_in(db, media_dir, path, name, resident_id, user_id,
                        MIN_SECONDS if min_seconds is None else min_seconds, max_bytes)
    except media.StorageFull:
        return _refuse(name, FULL_DISK)
    except (OSError, sqlite3.Error) as exc:
        if storage.full_explains(exc, media_dir):
            return _refuse(name, FULL_DISK)
        raise


def _copy_in(db, media_dir: Path, path: Path, name: str, resident_id: int | None, user_id: int | None,
             min_seconds: float, max_bytes: int | None) -> IngestResult | _Checking:
    src = _open_plain(path)
    if isinstance(src, str):
        return _refuse(name, src)
    with src, contextlib.ExitStack() as held:
        size = os.fstat(src.fileno()).st_size
        if size == 0:
            return _refuse(name, "The file is empty.")
        if max_bytes is not None and size > max_bytes:
            return _refuse(name, f"The file is too big ({_mb(size)}); a song can be at most {_mb(max_bytes)}.")
        held.enter_context(media.locked(media_dir))
        incoming = held.enter_context(media.Incoming(media_dir))
        try:
            incoming.copy_from(src, max_bytes)
        except ValueError:
            return _refuse(name, f"The file is too big; a song can be at most {_mb(max_bytes or 0)}.")
        known = db.execute("SELECT id FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone()
        if known is not None:
            return _link_existing(db, known[0], name, resident_id, user_id)
        info = tags.read(incoming.path)
        identity = formats.identify(incoming.path, info.ext if info else None, name_hint=name)
        words = formats.refusal(identity)
        if words is not None:
            return _refuse(name, words)
        if info is not None and info.length > MAX_SECONDS:
            return _refuse(name, f"This file says it lasts {_clock(info.length)}, far longer than a song.")
        incoming.with_extension(identity.ext)
        return _Checking(name, resident_id, user_id, min_seconds, incoming, held.pop_all(), info, identity)


def _decode(prober: Prober, step: _Checking) -> ProbeResult:
    return prober.probe(step.incoming.path, step.info.length if step.info else 0.0)


def _finish(db, media_dir: Path, step: _Checking, decoded: Callable[[], ProbeResult]) -> IngestResult:
    """Judge what decoding found; store the song when it passes. Always lets go of the
    scratch file and the lock."""
    with step.held:
        try:
            return _judge_and_store(db, media_dir, step, decoded())
        except media.StorageFull:
            return _refuse(step.name, FULL_DISK)
        except (OSError, sqlite3.Error) as exc:
            if storage.full_explains(exc, media_dir):
                return _refuse(step.name, FULL_DISK)
            raise


def _judge_and_store(db, media_dir: Path, step: _Checking, probe: ProbeResult) -> IngestResult:
    name, info, identity, incoming = step.name, step.info, step.identity, step.incoming
    if probe.error is not None:
        return _refuse(name, probe.error.words)
    heard = probe.decoded_seconds
    found = probe.analysis
    if found is None or heard < 0.5:
        if identity.kind is formats.Kind.VIDEO and probe.audio_tracks == 0:
            return _refuse(name, NO_SOUND)
        if identity.kind not in (formats.Kind.SOUND, formats.Kind.VIDEO):
            return _refuse(name, formats.cannot_play(identity))
        return _refuse(name, "No sound could be played from this file; it may be damaged or empty inside.")
    claimed = info.length if info and info.length > 0 else (probe.claimed_seconds or 0.0)
    if claimed > 0 and heard < CUT_SHORT_RATIO * claimed - 1.0:
        return _refuse(name, (f"This file seems to be cut short: it should last {_clock(claimed)} but the sound "
                              f"stops after {_clock(heard)}. Try copying it again from the original."))
    if (found.loudness_lufs is None or found.loudness_lufs < SILENT_LUFS
            or found.sound_seconds < min(MIN_SOUND_SECONDS, heard)):
        return _refuse(name, f"{NO_SOUND} It is {_clock(heard)} of silence.")
    if heard < step.min_seconds:
        return _refuse(name, f"It is only {heard:.0f} seconds long; a song must be at least {step.min_seconds:.0f} seconds.")
    if db.execute("SELECT 1 FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone():
        # The same audio arrived twice in one batch, and the other copy is in by now.
        known = db.execute("SELECT id FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone()[0]
        return _link_existing(db, known, name, step.resident_id, step.user_id)
    return _store(db, media_dir, step, heard, found)


def _store(db, media_dir: Path, step: _Checking, heard: float, found: sound.SoundAnalysis) -> IngestResult:
    name, info, incoming = step.name, step.info, step.incoming
    resident_id, user_id = step.resident_id, step.user_id
    guess = names.read_name(name)   # which part is the title: the catalogue decides
    title = (info.title if info else "") or guess.title or "Untitled"
    artist = (info.artist if info else "") or guess.artist
    album = info.album if info else ""
    tag_year = info.year if info else None
    ext = step.identity.ext
    fmt = info.format if info and info.ext == ext else ext
    final = incoming.place(ext)
    try:
        with write(db):
            db.execute(
                """INSERT OR IGNORE INTO songs (sha256, ext, format, title, artist, album, tag_year,
                       duration, size_bytes, original_name, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [incoming.sha256, ext, fmt, title, artist, album, tag_year,
                 round(heard, 2), incoming.size, name, utc_iso()],
            )
            song_id = db.execute("SELECT id FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone()[0]
            sound.record(db, song_id, found)
            if resident_id is not None:
                library.link_song(db, resident_id, song_id, user_id=user_id)   # the entry's year: family > catalogue > tag
            library.audit(db, "song.add", user_id=user_id, resident_id=resident_id, song_id=song_id,
                          detail={"name": name})
    except BaseException:
        # The file went in first; if its row did not, take the file back out.
        if db.execute("SELECT 1 FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone() is None:
            final.unlink(missing_ok=True)
        raise
    return _result("added", db, song_id, name, resident_id)


def _result(status: Literal["added", "duplicate"], db, song_id: int, name: str,
            resident_id: int | None) -> IngestResult:
    """What to tell the person: the song as their resident's entry names it (or, with no
    resident, as the file names itself). Never anything about another resident."""
    entry = library.resident_song(db, resident_id, song_id) if resident_id is not None else None
    if entry is not None:
        return IngestResult(status, name, song_id=song_id, title=entry.title, artist=entry.artist, year=entry.year)
    title, artist, year = db.execute("SELECT title, artist, tag_year FROM songs WHERE id = ?", [song_id]).fetchone()
    return IngestResult(status, name, song_id=song_id, title=title, artist=artist, year=year)


def _link_existing(db, song_id: int, name: str, resident_id: int | None, user_id: int | None) -> IngestResult:
    """The same audio is stored already. For a resident who did not have it, that is simply
    an added song (a new entry of their own); only their own copy counts as a duplicate."""
    if resident_id is not None and library.link_song(db, resident_id, song_id, user_id=user_id):
        library.audit(db, "song.link", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={"name": name})
        return _result("added", db, song_id, name, resident_id)
    return _result("duplicate", db, song_id, name, resident_id)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.0f} KB"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def remove_if_unused(db: sqlite_utils.Database, media_dir: str | Path, song_id: int) -> bool:
    """Delete a song (row and file) when no resident has it any more. Returns True if deleted."""
    media_dir = Path(media_dir)
    with media.locked(media_dir):
        with write(db):
            if db.execute("SELECT 1 FROM resident_songs WHERE song_id = ?", [song_id]).fetchone():
                return False
            row = db.execute("SELECT sha256, ext FROM songs WHERE id = ?", [song_id]).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM songs WHERE id = ?", [song_id])
        # The row is gone for good; now the file. A crash between the two leaves an
        # orphan file, which the integrity check removes.
        media.final_path(media_dir, row[0], row[1]).unlink(missing_ok=True)
    return True


__all__ = ["IngestResult", "ingest_file", "ingest_many", "remove_if_unused", "special_file", "MIN_SECONDS"]
