"""What a file says about itself: its tags and the length its header claims (read with
mutagen, for the formats mutagen knows), and, when tags are missing, what its messy
filename says. Whether it is a song at all is for content.formats and content.probe."""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import mutagen
import mutagen.aac
import mutagen.ac3
import mutagen.aiff
import mutagen.asf
import mutagen.flac
import mutagen.monkeysaudio
import mutagen.mp3
import mutagen.mp4
import mutagen.musepack
import mutagen.oggflac
import mutagen.oggopus
import mutagen.oggspeex
import mutagen.oggvorbis
import mutagen.trueaudio
import mutagen.wave
import mutagen.wavpack

# mutagen's file type → (format name, the extension we store it under).
FORMATS: dict[type, tuple[str, str]] = {
    mutagen.mp3.MP3: ("mp3", "mp3"),
    mutagen.oggvorbis.OggVorbis: ("ogg", "ogg"),
    mutagen.oggopus.OggOpus: ("opus", "opus"),
    mutagen.oggflac.OggFLAC: ("oga", "oga"),
    mutagen.oggspeex.OggSpeex: ("spx", "spx"),
    mutagen.flac.FLAC: ("flac", "flac"),
    mutagen.wave.WAVE: ("wav", "wav"),
    mutagen.mp4.MP4: ("m4a", "m4a"),
    mutagen.aiff.AIFF: ("aiff", "aiff"),
    mutagen.asf.ASF: ("wma", "wma"),
    mutagen.ac3.AC3: ("ac3", "ac3"),
    mutagen.aac.AAC: ("aac", "aac"),
    mutagen.monkeysaudio.MonkeysAudio: ("ape", "ape"),
    mutagen.musepack.Musepack: ("mpc", "mpc"),
    mutagen.wavpack.WavPack: ("wv", "wv"),
    mutagen.trueaudio.TrueAudio: ("tta", "tta"),
}
# Windows Media Player's names first, then the plain ones other tools write.
_ASF = {"title": ("Title", "title"), "artist": ("Author", "WM/AlbumArtist", "artist"),
        "album": ("WM/AlbumTitle", "album"), "date": ("WM/Year", "WM/OriginalReleaseYear", "date", "year")}


@dataclass(frozen=True)
class FileInfo:
    format: str
    ext: str
    length: float          # seconds, as the header claims
    title: str
    artist: str
    album: str
    year: int | None


def read(path: str | Path) -> FileInfo | None:
    """Tags and claimed length, or None when mutagen does not know the format (or the
    file is too damaged for mutagen; the decoder has the last word on that)."""
    try:
        f = mutagen.File(str(path), options=list(FORMATS))
    except Exception:  # mutagen raises assorted errors on odd bytes
        return None
    if f is None:
        return None
    fmt, ext = FORMATS[type(f)]
    length = float(getattr(f.info, "length", 0) or 0)
    try:
        tags = _text_tags(path, f)
    except Exception:  # tags we cannot read are simply not there
        tags = {}
    return FileInfo(
        format=fmt,
        ext=ext,
        length=length,
        title=tags.get("title", ""),
        artist=tags.get("artist", ""),
        album=tags.get("album", ""),
        year=parse_year(tags.get("date", "")),
    )


def _text_tags(path: str | Path, f: mutagen.FileType) -> dict[str, str]:
    """title/artist/album/date as plain strings, whatever the tag format."""
    out: dict[str, str] = {}
    if isinstance(f, (mutagen.wave.WAVE, mutagen.aiff.AIFF)):
        frames = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "date": "TDRC"}
        if f.tags is not None:
            for key, frame in frames.items():
                value = f.tags.get(frame)
                if value is not None and value.text:
                    out[key] = str(value.text[0])
            if "date" not in out and f.tags.get("TYER") is not None:
                out["date"] = str(f.tags["TYER"].text[0])
        return _clean(out)
    if isinstance(f, mutagen.asf.ASF):
        for key, names in _ASF.items():
            for name in names:
                values = f.tags.get(name) if f.tags is not None else None
                if values:
                    out[key] = str(values[0])
                    break
        return _clean(out)
    if isinstance(f, mutagen.mp3.MP3):
        f = mutagen.mp3.EasyMP3(str(path))
    elif isinstance(f, mutagen.mp4.MP4):
        mp4 = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "date": "\xa9day"}
        for key, atom in mp4.items():
            if f.tags is not None and f.tags.get(atom):
                out[key] = str(f.tags[atom][0])
        return _clean(out)
    if f.tags is not None:
        for key in ("title", "artist", "album", "date"):
            try:
                values = f.tags.get(key)
            except (KeyError, ValueError):
                values = None
            if values:
                out[key] = str(values[0])
    return _clean(out)


def _clean(tags: dict[str, str]) -> dict[str, str]:
    return {k: display_text(v) for k, v in tags.items() if display_text(v)}


def display_text(text: str, limit: int = 200) -> str:
    """Text from a file or a browser made safe to show and store: no control characters,
    normalised Unicode, single spaces, bounded length."""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:limit]


def parse_year(text: str) -> int | None:
    """'1942', '1942-05-01', '1942/05' → 1942; nonsense → None."""
    m = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", text or "")
    if not m:
        return None
    year = int(m.group(1))
    return year if 1850 <= year <= _dt.date.today().year else None


# Bracketed noise that is never part of a song's name.
_NOISE = re.compile(
    r"[\(\[\{][^\)\]\}]*\b(remaster(ed)?|re-?master|mono|stereo|live|version|edit|mix|bonus|"
    r"explicit|official|audio|video|hq|hd|lyrics?|single|album|take|demo|digital|\d{4})\b[^\)\]\}]*[\)\]\}]",
    re.IGNORECASE,
)
_DISC = re.compile(r"^\s*\d{1,2}-(?=\d{2}\b)")
_TRACK = re.compile(r"^\s*\d{1,3}\s*[-._)]\s*")
_TRACK_SPACE = re.compile(r"^\s*(?:0\d|\d{1,3}(?=\s.*\s[-–—]\s))\s+")
_SEPARATOR = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*")


@dataclass(frozen=True)
class NameGuess:
    title: str
    artist: str


def parse_filename(name: str) -> NameGuess:
    """Guess artist and title from a messy filename.

    '03 - Vera Lynn - We'll Meet Again (Remastered 2005).mp3' → Vera Lynn / We'll Meet Again.
    """
    stem = Path(display_text(name, limit=400)).stem if "." in name else display_text(name, 400)
    stem = stem.replace("_", " ")
    stem = _NOISE.sub(" ", stem)
    stem = _DISC.sub("", stem, count=1)
    stem = _TRACK.sub("", stem, count=1) if _TRACK.match(stem) else _TRACK_SPACE.sub("", stem, count=1)
    parts = [p.strip(" .-") for p in _SEPARATOR.split(stem) if p.strip(" .-")]
    if not parts:
        return NameGuess(title="", artist="")
    if len(parts) == 1:
        return NameGuess(title=" ".join(parts[0].split()), artist="")
    return NameGuess(title=" ".join(" - ".join(parts[1:]).split()), artist=" ".join(parts[0].split()))
