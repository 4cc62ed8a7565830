"""A song's sound as the library keeps it: loudness and peak (for the gain the kiosk plays
it at) and tempo (for the care modes), measured once when the song arrives.

SQL for these columns lives here; `content.analysis` measures, this module stores and
reads. The kiosk asks `get()` and `playback_gain_db()`; the admin shows `TempoBand`; the
queue and the care modes read TEMPO_SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils

from content import library
from content.db import LibraryError, write
from content.timestamps import utc_iso

# Bump when the measuring changes enough that stored figures should be measured again.
ANALYSIS_VERSION = 1

# ReplayGain 2.0's reference level: quiet enough that most songs are turned down rather
# than up, so little depends on a song's peaks.
TARGET_LUFS = -18.0
HEADROOM_DB = 1.0                    # a raised song's peaks stay this far under full scale
MOST_RAISE_DB = 20.0
MOST_LOWER_DB = -30.0

SLOW_BELOW_BPM = 80.0                # DESIGN: calm music, slow, under about 80 BPM
LIVELY_FROM_BPM = 120.0
TEMPO_RANGE = (30.0, 260.0)          # what a person may enter
MIN_TEMPO_CONFIDENCE = 0.3           # a measured tempo less sure than this is not used

# A song's tempo as the queue and the care modes use it: a person's figure, else the
# measured one when it is sure enough, else unknown (NULL).
TEMPO_SQL = (f"COALESCE(s.tempo_bpm_person, "
             f"CASE WHEN s.tempo_confidence >= {MIN_TEMPO_CONFIDENCE} THEN s.tempo_bpm END)")


class TempoBand(StrEnum):
    """How fast a song goes, in the words the admin shows."""

    SLOW = "slow"
    STEADY = "steady"
    LIVELY = "lively"

    @classmethod
    def of(cls, bpm: float | None) -> "TempoBand | None":
        if bpm is None:
            return None
        if bpm < SLOW_BELOW_BPM:
            return cls.SLOW
        return cls.LIVELY if bpm >= LIVELY_FROM_BPM else cls.STEADY


@dataclass(frozen=True)
class SoundAnalysis:
    """What one decode of a file measured (see content.analysis)."""

    seconds: float                       # decoded, not what the header claims
    sound_seconds: float                 # of which louder than a whisper
    loudness_lufs: float | None          # EBU R128 integrated; None: silence
    peak_db: float | None                # true peak estimate, dBTP
    tempo_bpm: float | None = None
    tempo_confidence: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SoundAnalysis":
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SongSound:
    """The stored figures for one song."""

    song_id: int
    loudness_lufs: float | None
    peak_db: float | None
    measured_bpm: float | None
    tempo_confidence: float | None
    person_bpm: float | None             # a person's correction wins over the measurement
    analysed: bool

    @property
    def bpm(self) -> float | None:
        """A person's figure, else the measured one when it is sure enough."""
        if self.person_bpm is not None:
            return self.person_bpm
        if self.measured_bpm is not None and (self.tempo_confidence or 0.0) >= MIN_TEMPO_CONFIDENCE:
            return self.measured_bpm
        return None

    @property
    def band(self) -> TempoBand | None:
        return TempoBand.of(self.bpm)

    def gain_db(self, target_lufs: float = TARGET_LUFS) -> float:
        return playback_gain_db(self.loudness_lufs, self.peak_db, target_lufs)


def playback_gain_db(loudness_lufs: float | None, peak_db: float | None, target_lufs: float = TARGET_LUFS) -> float:
    """The gain that brings a song to the target level, never lifting its peaks past
    HEADROOM_DB under full scale. An unmeasured song plays as it is."""
    if loudness_lufs is None:
        return 0.0
    gain = target_lufs - loudness_lufs
    if peak_db is not None and gain > 0:
        gain = min(gain, max(0.0, -HEADROOM_DB - peak_db))
    return round(min(MOST_RAISE_DB, max(MOST_LOWER_DB, gain)), 2)


_COLUMNS = "id, loudness_lufs, peak_db, tempo_bpm, tempo_confidence, tempo_bpm_person, analysed_at"


def _from_row(row: Any) -> SongSound:
    return SongSound(song_id=row[0], loudness_lufs=row[1], peak_db=row[2], measured_bpm=row[3],
                     tempo_confidence=row[4], person_bpm=row[5], analysed=row[6] is not None)


def get(db: sqlite_utils.Database, song_id: int) -> SongSound | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM songs WHERE id = ?", [song_id]).fetchone()
    return _from_row(row) if row else None


def for_songs(db: sqlite_utils.Database, song_ids: list[int]) -> dict[int, SongSound]:
    if not song_ids:
        return {}
    marks = ",".join("?" * len(song_ids))
    rows = db.execute(f"SELECT {_COLUMNS} FROM songs WHERE id IN ({marks})", list(song_ids)).fetchall()
    return {row[0]: _from_row(row) for row in rows}


def record(db: sqlite_utils.Database, song_id: int, analysis: SoundAnalysis) -> None:
    """Store what decoding measured (inside the caller's transaction when there is one).
    A person's tempo stays."""
    with write(db):
        db.execute(
            """UPDATE songs SET loudness_lufs = ?, peak_db = ?, tempo_bpm = ?, tempo_confidence = ?,
                   analysed_at = ?, analysis_version = ? WHERE id = ?""",
            [analysis.loudness_lufs, analysis.peak_db, analysis.tempo_bpm, analysis.tempo_confidence,
             utc_iso(), ANALYSIS_VERSION, song_id],
        )


def unanalysed(db: sqlite_utils.Database, *, everything: bool = False) -> list[tuple[int, str]]:
    """(song id, media file name) of songs never measured, or measured by an older
    version; every song with `everything`."""
    where = "" if everything else "WHERE analysed_at IS NULL OR analysis_version < ?"
    params = [] if everything else [ANALYSIS_VERSION]
    rows = db.execute(f"SELECT id, sha256, ext FROM songs {where} ORDER BY id", params).fetchall()
    return [(r[0], f"{r[1]}.{r[2]}") for r in rows]


def set_tempo(db: sqlite_utils.Database, song_id: int, bpm: float | None, *, user_id: int | None = None) -> None:
    """A person's tempo for a song (None: go back to the measured one)."""
    if bpm is not None:
        low, high = TEMPO_RANGE
        if not low <= bpm <= high:
            raise LibraryError(f"A tempo is between {low:.0f} and {high:.0f} beats a minute.")
        bpm = round(float(bpm), 1)
    with write(db):
        cur = db.execute("UPDATE songs SET tempo_bpm_person = ? WHERE id = ?", [bpm, song_id])
        if cur.rowcount != 1:
            raise LibraryError("There is no such song.")
        library.audit(db, "song.tempo", user_id=user_id, song_id=song_id, detail={"bpm": bpm})
