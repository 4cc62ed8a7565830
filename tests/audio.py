"""Real audio for tests: tones written as WAV, OGG, FLAC or MP3, tagged with mutagen.

Each test song is a distinct pure tone, so a test can tell from the output audio which
song played.
"""
from __future__ import annotations

from pathlib import Path

import mutagen
import mutagen.wave
from mutagen import id3
import numpy as np
import soundfile as sf

RATE = 44100
_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"), ".mp3": ("MP3", "MPEG_LAYER_III")}


def tone(freq: float, seconds: float, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_song(
    path: str | Path,
    freq: float = 440.0,
    seconds: float = 20.0,
    *,
    fmt: str | None = None,
    amplitude: float = 0.3,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write a tone to `path`. `fmt` (".ogg", ".mp3", ...) overrides the suffix, so an OGG
    can be written under a .mp3 name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = (fmt or path.suffix).lower()
    major, subtype = _FORMATS[kind]
    data = tone(freq, seconds, amplitude)
    stereo = np.column_stack([data, data])
    # Written a second at a time: libsndfile's Vorbis encoder crashes on one large write.
    with sf.SoundFile(path, "w", RATE, 2, format=major, subtype=subtype) as out:
        for start in range(0, len(stereo), RATE):
            out.write(stereo[start:start + RATE])
    if tags:
        tag(path, **tags)
    return path


def tag(path: str | Path, **tags: str) -> None:
    """Set easy tags (title, artist, album, date) with mutagen; WAV gets ID3 tags."""
    f = mutagen.File(str(path), easy=True)
    if isinstance(f, mutagen.wave.WAVE):
        _tag_wave(f, tags)
        return
    if f is None:
        raise ValueError(f"mutagen cannot tag {path}")
    if f.tags is None:
        f.add_tags()
    for key, value in tags.items():
        f[key] = str(value)
    f.save()


_ID3 = {"title": id3.TIT2, "artist": id3.TPE1, "album": id3.TALB, "date": id3.TDRC}


def _tag_wave(f: mutagen.wave.WAVE, tags: dict[str, str]) -> None:
    if f.tags is None:
        f.add_tags()
    for key, value in tags.items():
        f.tags.add(_ID3[key](encoding=3, text=str(value)))
    f.save()
