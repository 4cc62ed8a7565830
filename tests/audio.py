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


# ---- other containers, made the way families' files are made ------------------------------

# ffmpeg's encoders for the formats soundfile cannot write (ffmpeg is a test-only package).
_FFMPEG = {
    ".m4a": ["-c:a", "aac", "-b:a", "128k"],
    ".wma": ["-c:a", "wmav2", "-b:a", "128k"],
    ".webm": ["-c:a", "libopus", "-b:a", "96k"],
    ".opus": ["-c:a", "libopus", "-b:a", "96k"],
    ".ac3": ["-c:a", "ac3", "-b:a", "192k"],
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "160k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    ".flac": ["-c:a", "flac"],
    ".wav": ["-c:a", "pcm_s16le"],
}


def encode(wav: str | Path, out: str | Path, *, video: bool = False, audio: bool = True,
           tags: dict[str, str] | None = None) -> Path:
    """Encode a WAV with ffmpeg into `out`'s format; with `video`, as the sound track of a
    small video (MP4, MOV, WebM); without `audio`, a video with no sound at all."""
    import subprocess

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ext = out.suffix.lower()
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
    if video:
        seconds = sf.info(str(wav)).duration
        cmd += ["-f", "lavfi", "-i", f"color=c=navy:s=96x64:r=10:d={seconds:.2f}"]
    if audio:
        cmd += ["-i", str(wav)]
    if video:
        cmd += ["-c:v", "libvpx" if ext == ".webm" else "mpeg4", "-shortest"]
    if audio:
        cmd += _FFMPEG.get(".webm" if ext == ".webm" else ".m4a" if ext in (".mp4", ".mov") else ext, [])
    else:
        cmd += ["-an"]
    if ext != ".wma":
        for key, value in (tags or {}).items():
            cmd += ["-metadata", f"{key}={value}"]
    subprocess.run(cmd + [str(out)], check=True)
    if ext == ".wma" and tags:
        _tag_asf(out, tags)
    return out


_ASF = {"title": "Title", "artist": "Author", "album": "WM/AlbumTitle", "date": "WM/Year"}


def _tag_asf(path: Path, tags: dict[str, str]) -> None:
    """Tags as Windows Media Player writes them on a CD rip."""
    import mutagen.asf

    f = mutagen.asf.ASF(str(path))
    for key, value in tags.items():
        f[_ASF[key]] = [str(value)]
    f.save()


def write_amr(path: str | Path, freq: float = 440.0, seconds: float = 12.0) -> Path:
    """An AMR-NB voice recording (what old phones made), encoded with libopencore-amrnb."""
    import ctypes

    lib = ctypes.CDLL("libopencore-amrnb.so.0")
    lib.Encoder_Interface_init.restype = ctypes.c_void_p
    lib.Encoder_Interface_Encode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
    rate, mode_12k2 = 8000, 7
    pcm = (tone(freq, seconds, 0.3, rate) * 32767).astype(np.int16)
    state = lib.Encoder_Interface_init(0)
    out = bytearray(b"#!AMR\n")
    buf = (ctypes.c_ubyte * 64)()
    for start in range(0, len(pcm) - 159, 160):
        frame = np.ascontiguousarray(pcm[start:start + 160])
        n = lib.Encoder_Interface_Encode(state, mode_12k2, frame.ctypes.data, buf, 0)
        out += bytes(buf[:n])
    lib.Encoder_Interface_exit(state)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def write_wav(path: str | Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """Float samples (mono, or frames × channels) as 16-bit stereo WAV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = np.column_stack([data, data])
    sf.write(str(path), data, rate, subtype="PCM_16")
    return path
