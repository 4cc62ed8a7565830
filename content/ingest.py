"""How every song enters the library: the CLI import, the admin's upload, the demo songs.

One path for all of them, so every song in the library has passed the same checks: the
content is a known audio format (by its bytes, not its name), our own player decodes
sound from the whole of it, it is long enough to be a song, and it is stored once under
its SHA-256 before its row is written. On any refusal nothing is left behind.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlite_utils

from content import library, media, storage, tags
from content.db import write
from content.era import names
from content.probe import Prober
from content.timestamps import utc_iso

MIN_SECONDS = 10.0
MAX_BYTES = 1024 * 1024 * 1024      # 1 GiB: more than any song; stops a disk image by mistake
CUT_SHORT_RATIO = 0.9               # decoded under 90 % of what the header claims: truncated

FULL_DISK = storage.FULL_WORDS


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
    media_dir = Path(media_dir)
    name = tags.display_text(original_name or Path(path).name) or "the file"
    own_prober = prober is None
    prober = prober or Prober()
    try:
        return _ingest(db, media_dir, Path(path), name, resident_id, user_id,
                       MIN_SECONDS if min_seconds is None else min_seconds, max_bytes, prober)
    except media.StorageFull:
        return IngestResult("refused", name, reason=FULL_DISK)
    except (OSError, sqlite3.Error) as exc:
        if storage.full_explains(exc, media_dir):
            return IngestResult("refused", name, reason=FULL_DISK)
        raise
    finally:
        if own_prober:
            prober.close()


def _refuse(name: str, reason: str) -> IngestResult:
    return IngestResult("refused", name, reason=reason)


def _ingest(db, media_dir: Path, path: Path, name: str, resident_id: int | None, user_id: int | None,
            min_seconds: float, max_bytes: int | None, prober: Prober) -> IngestResult:
    try:
        size = path.stat().st_size
        src = open(path, "rb")
    except OSError:
        return _refuse(name, "The file could not be read.")
    with src:
        if size == 0:
            return _refuse(name, "The file is empty.")
        if max_bytes is not None and size > max_bytes:
            return _refuse(name, f"The file is too big ({_mb(size)}); a song can be at most {_mb(max_bytes)}.")
        with media.locked(media_dir), media.Incoming(media_dir) as incoming:
            try:
                incoming.copy_from(src, max_bytes)
            except ValueError:
                return _refuse(name, f"The file is too big; a song can be at most {_mb(max_bytes or 0)}.")
            known = db.execute("SELECT id FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone()
            if known is not None:
                return _link_existing(db, known[0], name, resident_id, user_id)
            return _check_and_store(db, media_dir, incoming, name, resident_id, user_id, min_seconds, prober)


def _check_and_store(db, media_dir: Path, incoming: media.Incoming, name: str, resident_id: int | None,
                     user_id: int | None, min_seconds: float, prober: Prober) -> IngestResult:
    try:
        info = tags.read(incoming.path)
    except tags.NotAudio as exc:
        return _refuse(name, f"This is not a song we can play: {exc}.")
    scratch = incoming.with_extension(info.ext)
    probe = prober.probe(scratch, info.length)
    if probe.storage_full:
        # The decoder's scratch space filled up: the song may be fine, the disk is not.
        return _refuse(name, FULL_DISK)
    if not probe.ok:
        return _refuse(name, f"This file could not be played: {probe.error}.")
    heard = probe.decoded_seconds
    if heard < 0.5:
        return _refuse(name, "No sound could be played from this file; it may be damaged or empty inside.")
    if info.length > 0 and heard < CUT_SHORT_RATIO * info.length - 1.0:
        return _refuse(name, (f"This file seems to be cut short: it should last {_clock(info.length)} but the sound "
                              f"stops after {_clock(heard)}. Try copying it again from the original."))
    if heard < min_seconds:
        return _refuse(name, f"It is only {heard:.0f} seconds long; a song must be at least {min_seconds:.0f} seconds.")

    guess = names.read_name(name)   # which part is the title: the catalogue decides
    title = info.title or guess.title or "Untitled"
    artist = info.artist or guess.artist
    final = incoming.place(info.ext)
    try:
        with write(db):
            db.execute(
                """INSERT OR IGNORE INTO songs (sha256, ext, format, title, artist, album, tag_year,
                       duration, size_bytes, original_name, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [incoming.sha256, info.ext, info.format, title, artist, info.album, info.year,
                 round(heard, 2), incoming.size, name, utc_iso()],
            )
            song_id = db.execute("SELECT id FROM songs WHERE sha256 = ?", [incoming.sha256]).fetchone()[0]
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


__all__ = ["IngestResult", "ingest_file", "remove_if_unused", "MIN_SECONDS"]
