"""Demo songs, synthesised on the spot from public-domain melodies (all published before
1929), so a fresh install plays something at once and the repository holds no
copyrighted audio. Simple tunes played on a soft organ-like tone; a care home replaces
them with real recordings."""
from __future__ import annotations

import array
import math
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from mutagen import id3
from mutagen.wave import WAVE

from content import library
from content.ingest import ingest_file
from content.probe import Prober

RATE = 22050
DEMO_RESIDENT = "Demo"
DEMO_BIRTH_YEAR = 1896     # so the demo songs fall in the demo resident's teenage years

_NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _freq(note: str) -> float:
    """'A4' → 440 Hz; '#' raises and 'b' lowers a semitone; 'R' is a rest."""
    name, octave = note[:-1], int(note[-1])
    semis = _NOTE[name[0]] + name.count("#") - name.count("b")
    return 440.0 * 2 ** ((semis - 9) / 12 + (octave - 4))


@dataclass(frozen=True)
class Tune:
    title: str
    artist: str
    year: int
    beat: float          # seconds per beat
    notes: str           # "G5:3 E5:3 ..." note:beats


TUNES = [
    Tune("Daisy Bell", "Harry Dacre", 1892, 0.30,
         "G5:3 E5:3 C5:3 G4:3 A4:1 B4:1 C5:1 A4:2 C5:1 G4:6 D5:3 G5:3 E5:3 C5:3 A4:1 B4:1 C5:1 D5:2 E5:1 D5:6 "
         "E5:1 F5:1 E5:1 D5:1 G5:2 E5:1 D5:1 C5:4 D5:1 E5:2 C5:1 A4:2 C5:1 A4:1 G4:5 "
         "G4:1 C5:2 E5:1 D5:2 G4:1 C5:2 E5:1 D5:1 E5:1 F5:1 G5:1 E5:1 C5:1 D5:2 G4:1 C5:6"),
    Tune("Take Me Out to the Ball Game", "Albert Von Tilzer", 1908, 0.28,
         "C5:2 C6:1 A5:1 G5:1 E5:1 G5:3 D5:3 C5:2 C6:1 A5:1 G5:1 E5:1 G5:6 "
         "A5:1 G#5:1 A5:1 E5:1 F5:1 G5:1 A5:2 F5:1 D5:3 A5:2 A5:1 A5:1 B5:1 C6:1 D6:1 B5:1 A5:1 G5:1 E5:1 D5:1 "
         "C5:2 C6:1 A5:1 G5:1 E5:1 G5:3 D5:2 D5:1 C5:1 D5:1 E5:1 F5:1 G5:1 A5:1 A5:1 B5:1 C6:3 C6:3"),
    Tune("Shine On, Harvest Moon", "Nora Bayes and Jack Norworth", 1908, 0.34,
         "E5:1 D#5:1 E5:1 C5:5 E5:1 D#5:1 E5:1 A4:5 D5:1 C#5:1 D5:1 B4:3 G4:2 A4:1 B4:1 C5:6 "
         "E5:1 D#5:1 E5:1 C5:5 E5:1 D#5:1 E5:1 A5:5 G5:1 F#5:1 G5:1 E5:3 C5:2 D5:1 E5:1 D5:6"),
    Tune("By the Light of the Silvery Moon", "Gus Edwards", 1909, 0.30,
         "E5:1 G5:1 A5:1 G5:1 E5:2 C5:2 D5:1 E5:1 D5:1 C5:1 A4:4 G4:4 "
         "E5:1 G5:1 A5:1 G5:1 E5:2 C5:2 D5:1 E5:1 F5:1 E5:1 D5:8 "
         "F5:1 A5:1 B5:1 A5:1 F5:2 D5:2 E5:1 F5:1 E5:1 D5:1 B4:4 A4:4 G4:1 A4:1 B4:1 C5:1 D5:2 E5:2 C5:8"),
    Tune("Let Me Call You Sweetheart", "Leo Friedman", 1910, 0.32,
         "E5:1 D#5:1 E5:1 F5:3 D5:3 G5:3 E5:6 C5:3 D5:1 C#5:1 D5:1 E5:3 C5:3 A4:3 G4:6 G4:3 "
         "A4:1 G#4:1 A4:1 C5:3 A4:3 E5:3 D5:6 C5:3 B4:1 A#4:1 B4:1 D5:3 B4:3 G5:3 E5:9"),
]


def render(tune: Tune, seconds: float = 40.0) -> array.array:
    """The tune, repeated to about `seconds`, as 16-bit mono samples."""
    out = array.array("h")
    steps = [(n.split(":")[0], float(n.split(":")[1])) for n in tune.notes.split()]
    while len(out) < seconds * RATE:
        for note, beats in steps:
            length = int(beats * tune.beat * RATE)
            f = _freq(note)
            w = 2 * math.pi * f / RATE
            attack, release = int(0.02 * RATE), int(0.08 * RATE)
            for i in range(length):
                env = min(1.0, i / attack, (length - i) / release)
                s = math.sin(w * i) + 0.35 * math.sin(2 * w * i) + 0.15 * math.sin(3 * w * i)
                out.append(int(6000 * env * s))
        out.extend([0] * int(0.6 * RATE))       # a breath between verses
    return out


def write_wav(tune: Tune, path: Path, seconds: float = 40.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(render(tune, seconds).tobytes())
    f = WAVE(str(path))
    f.add_tags()
    f.tags.add(id3.TIT2(encoding=3, text=tune.title))
    f.tags.add(id3.TPE1(encoding=3, text=tune.artist))
    f.tags.add(id3.TDRC(encoding=3, text=str(tune.year)))
    f.tags.add(id3.TALB(encoding=3, text="Evergreen demo songs"))
    f.save()
    return path


def ensure_demo(db: sqlite_utils.Database, media_dir: Path, seconds: float = 40.0) -> list[str]:
    """On an empty library, add the demo resident and songs. Returns what was done, one
    line each; an empty list when the library already had residents."""
    if library.list_residents(db):
        return []
    resident = library.add_resident(db, DEMO_RESIDENT, birth_year=DEMO_BIRTH_YEAR)
    lines = [f"Added the demo resident '{resident.name}' (born {DEMO_BIRTH_YEAR})."]
    with tempfile.TemporaryDirectory(prefix="evergreen-demo-") as tmp, Prober() as prober:
        for tune in TUNES:
            path = write_wav(tune, Path(tmp) / f"{tune.title}.wav", seconds)
            result = ingest_file(db, media_dir, path, resident_id=resident.id, prober=prober)
            lines.append(result.line())
    return lines
