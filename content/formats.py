"""What kind of file this is, by its bytes rather than its name: so a photo or a PDF sent by
mistake is turned away in words a family member understands, and a song is stored under
the extension of its real format (libvlc picks a demuxer by extension first: an OGG called
.mp3 plays as silence).

mutagen knows the audio formats whose tags we read; puremagic (a pure-Python port of the
`file` command's magic numbers) knows the rest: video containers, photos, documents.
Whether a sound file is a song is decided later, by decoding it (content.probe).
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import puremagic


class Kind(str, Enum):
    SOUND = "sound"
    VIDEO = "video"
    PHOTO = "photo"
    PDF = "pdf"
    DOCUMENT = "document"
    TEXT = "text"
    ARCHIVE = "archive"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Identity:
    kind: Kind
    ext: str              # the extension to store it under, without the dot
    name: str             # what it is, in a few words ("Windows Media audio")


# Extensions puremagic may answer that name a container libvlc plays sound from.
_SOUND_EXTS = {
    "aac": "AAC audio", "ac3": "Dolby Digital (AC-3) audio", "aif": "AIFF audio", "aiff": "AIFF audio",
    "amr": "AMR voice recording", "ape": "Monkey's Audio", "au": "Sun audio", "awb": "AMR-WB voice recording",
    "caf": "Core Audio", "dts": "DTS audio", "eac3": "Dolby Digital Plus audio", "flac": "FLAC audio",
    "m4a": "MPEG-4 audio", "m4b": "MPEG-4 audiobook", "mka": "Matroska audio", "mp2": "MPEG audio",
    "mp3": "MP3 audio", "mpc": "Musepack audio", "oga": "Ogg audio", "ogg": "Ogg audio", "opus": "Opus audio",
    "spx": "Speex audio", "tta": "True Audio", "voc": "Creative voice", "wav": "WAV audio",
    "wma": "Windows Media audio", "wv": "WavPack audio",
}
_VIDEO_EXTS = {
    "3g2": "3GPP video", "3gp": "3GPP phone video", "asf": "Windows Media video", "avi": "AVI video",
    "flv": "Flash video", "m2ts": "MPEG transport stream", "m4v": "MPEG-4 video", "mkv": "Matroska video",
    "mov": "QuickTime video", "mp4": "MPEG-4 video", "mpeg": "MPEG video", "mpg": "MPEG video",
    "mts": "MPEG transport stream", "ogv": "Ogg video", "ts": "MPEG transport stream", "vob": "DVD video",
    "webm": "WebM video", "wmv": "Windows Media video",
}
_DOCUMENT_EXTS = {"doc", "docx", "odt", "rtf", "pages", "xls", "xlsx", "ods", "ppt", "pptx", "odp", "epub"}
_ARCHIVE_EXTS = {"zip": "ZIP", "rar": "RAR", "7z": "7-Zip", "gz": "gzip", "tar": "tar", "bz2": "bzip2",
                 "xz": "xz", "zst": "Zstandard"}
_MIDI_EXTS = {"mid", "midi", "kar"}
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,5}$")
_PHOTO_BRANDS = {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis"}
_SNIFF_BYTES = 1 << 16


def identify(path: str | Path, mutagen_ext: str | None = None, name_hint: str = "") -> Identity:
    """What the file at `path` is. `mutagen_ext` is the extension mutagen gave it, when
    mutagen recognised it; `name_hint` is the name the person gave it (a tie-breaker for
    puremagic, never trusted over the bytes)."""
    zipped = _zip_kind(path)
    if zipped is not None:
        return zipped
    boxed = _iso_kind(path)
    if boxed is not None:
        return boxed
    guesses = _guesses(path, name_hint)
    for ext, mime, name in guesses[:1]:              # only the best guess decides these
        if mime.startswith("image/"):
            return Identity(Kind.PHOTO, ext, name or "photo")
        if ext == "pdf" or mime == "application/pdf":
            return Identity(Kind.PDF, "pdf", "PDF document")
        if ext in _DOCUMENT_EXTS or "officedocument" in mime or "msword" in mime or "opendocument" in mime:
            return Identity(Kind.DOCUMENT, ext, name or "document")
        if ext in _ARCHIVE_EXTS:
            return Identity(Kind.ARCHIVE, ext, f"{_ARCHIVE_EXTS[ext]} archive")
    if mutagen_ext:
        return Identity(Kind.SOUND, mutagen_ext, _SOUND_EXTS.get(mutagen_ext, f"{mutagen_ext.upper()} audio"))
    for ext, mime, name in guesses:
        if ext in _SOUND_EXTS:
            return Identity(Kind.SOUND, ext, _SOUND_EXTS[ext])
        if ext in _VIDEO_EXTS:
            return Identity(Kind.VIDEO, ext, _VIDEO_EXTS[ext])
        if ext in _MIDI_EXTS:
            return Identity(Kind.UNKNOWN, "mid", "MIDI music")
    if _looks_like_text(path):
        return Identity(Kind.TEXT, "txt", "text")
    best = guesses[0] if guesses else None
    if best and _SAFE_EXT.match(best[0]):
        return Identity(Kind.UNKNOWN, best[0], best[2] or best[0].upper())
    return Identity(Kind.UNKNOWN, "bin", "")


def _zip_kind(path: str | Path) -> Identity | None:
    """A ZIP is an office document (Word, OpenDocument, EPUB) or a folder of files."""
    try:
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist()[:200])
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" in names or "mimetype" in names:
        return Identity(Kind.DOCUMENT, "zip", "document")
    return Identity(Kind.ARCHIVE, "zip", "ZIP archive")


def _iso_kind(path: str | Path) -> Identity | None:
    """The ISO media family (MP4, M4A, QuickTime, 3GP, and iPhone photos) says what it
    holds in its first box."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return None
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12].decode("latin-1").lower()
    if brand in _PHOTO_BRANDS:
        return Identity(Kind.PHOTO, "heic", "photo")
    if brand in ("m4a ", "m4b ", "m4p "):
        return Identity(Kind.SOUND, "m4a", _SOUND_EXTS["m4a"])
    if brand == "qt  ":
        return Identity(Kind.VIDEO, "mov", _VIDEO_EXTS["mov"])
    if brand.startswith("3g"):
        return Identity(Kind.VIDEO, "3gp", _VIDEO_EXTS["3gp"])
    return Identity(Kind.VIDEO, "mp4", _VIDEO_EXTS["mp4"])


def refusal(identity: Identity) -> str | None:
    """Plain words for a file that is plainly not a song (no need to try playing it)."""
    if identity.kind is Kind.PHOTO:
        return "This is a photo, not a song."
    if identity.kind is Kind.PDF:
        return "This is a PDF document, not a song."
    if identity.kind is Kind.DOCUMENT:
        return "This is a document, not a song."
    if identity.kind is Kind.TEXT:
        return "This is a text document, not a song."
    if identity.kind is Kind.ARCHIVE:
        return (f"This is a compressed folder ({identity.name}), not a song: open it on a computer or phone "
                "and add the songs inside it.")
    return None


def cannot_play(identity: Identity) -> str:
    """Words for a file our player found nothing to play in."""
    return f"We can't play this kind of file ({identity.name or 'a kind we do not know'})."


def _guesses(path: str | Path, name_hint: str = "") -> list[tuple[str, str, str]]:
    """puremagic's guesses, best first, as (extension, mime type, name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        found = puremagic.magic_string(head, filename=name_hint or str(path))
    except (puremagic.PureError, OSError, ValueError):
        return []
    out = []
    for m in found:
        ext = (m.extension or "").lower().lstrip(".")
        if m.confidence >= 0.3 and ext:
            out.append((ext, (m.mime_type or "").lower(), m.name or ""))
    return out


def _looks_like_text(path: str | Path, size: int = 4096) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(size)
    except OSError:
        return False
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:          # a character cut at the end is fine
            return False
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * max(1, len(text))
