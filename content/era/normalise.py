"""Turning messy song names into comparable strings.

Families upload files called "03_-_The_Ink_Spots_-_Into_Each_Life (Remastered 2005).mp3";
tags say "Bing Crosby feat. The Andrews Sisters". Matching works on plain lowercase words:
accents folded, "&" spelled "and", punctuation gone, and the decoration that is not part of
a song's name (track numbers, "remastered", "live", "mono", "feat. ...", a leading "The")
removed. Plain functions over strings, beets-style, so each rule can be tested on its own.
"""
from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import OSA

AUDIO_EXTENSIONS = ("mp3", "ogg", "oga", "flac", "wav", "m4a", "aac", "opus", "wma", "mp4")

# Words that only decorate a release. A bracketed group or a " - " part made only of these
# (and years/numbers) is dropped: "(Remastered 2005)", "- Live", "[Mono Version]".
NOISE_WORDS = frozenset(
    """
    remaster remastered remastering remasters digitally digital
    live mono stereo version versions edit edited mix mixed remix remixed radio single
    album lp ep bonus track demo take alternate alt instrumental acoustic original
    recording recorded session sessions extended short long anniversary deluxe edition
    expanded reissue re issue official video audio lyric lyrics hq hd hi fi hifi explicit clean
    from soundtrack ost theme bbc studio in at concert the a of and 1 2 3 4 5
    mp3 ogg flac wav m4a kbps kbit 128 192 256 320 vinyl rip cd disc side
    """.split()
)
# At least one of these must be present for a group to count as decoration, so that a
# real bracketed title part such as "(I've Got a Gal In)" is kept.
NOISE_MARKERS = frozenset(
    """
    remaster remastered remastering remasters digitally live mono stereo version edit remix
    mix radio single demo take alternate instrumental acoustic recording recorded session
    extended anniversary deluxe edition reissue official video audio lyric lyrics hq hd explicit
    soundtrack ost bonus kbps vinyl rip mp3 flac
    """.split()
)

_FEAT = re.compile(r"\b(?:feat|ft|featuring|with special guest)\b\.?.*$")
_FEAT_WORD = re.compile(r"\b(?:feat|ft|featuring)\b\.?")
_BRACKETS = re.compile(r"[\(\[\{]([^\(\)\[\]\{\}]*)[\)\]\}]")
_TRACK_NUMBER = re.compile(
    r"^\s*(?:(?:cd|disc)\s*\d+\s*[-_. ]\s*)?"        # "CD1 - " / "disc 2."
    r"(?:[a-d]?\d{1,3})"                             # "03", "A1", "12"
    r"(?:\s*[-_.)]+\s*)(?!\d)"                        # then a separator: "03 - ", "1. ", "A1_"
)
_ZERO_PADDED = re.compile(r"^\s*0\d\s+")                 # "03 Moonlight Serenade"
_FILE_TRACK = re.compile(r"^\s*(?:0?\d|[1-3]\d)\s+(?=\D)")  # "14 We're a Winner.flac"
_EXTENSION = re.compile(r"\.(?:" + "|".join(AUDIO_EXTENSIONS) + r")\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[-\u2013\u2014~|/:]+\s+|\s*_-_\s*|\s*[\u2013\u2014]\s*|\s+-|-\s+|\s*\|\s*")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_YEAR = re.compile(r"^(?:18|19|20)\d\d$")
_BAND_SUFFIX = (
    r"\b(?:and|with)\s+(?:his|her|their)\s+(?:orchestra|orch|band|boys|quartet|trio|quintet|"
    r"sextet|singers|chorus|all stars|music|gang|men|friends)\b"
    r"|\b(?:his|her) orchestra\b|\b(?:and|with) (?:the )?(?:orchestra|orch)\b"
)
# In an artist field everything after "and his orchestra" goes ("... and Chorus");
# in a one-part name only the phrase itself, since the title may follow it.
_ORCHESTRA = re.compile(f"(?:{_BAND_SUFFIX}).*$|\\borchestra\\b$")
_ORCHESTRA_PHRASE = re.compile(_BAND_SUFFIX)


def fold(text: str) -> str:
    """Lowercase ASCII-ish text: accents removed ("Édith Piaf" → "edith piaf")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("œ", "oe").casefold()


def _words(text: str) -> str:
    text = _APOSTROPHES.sub("", text)
    text = text.replace("&", " and ").replace("+", " and ")
    return " ".join(_NON_WORD.sub(" ", text).split())


# A bracketed group opening with one of these is a note about the recording:
# "(Live at Madison Square Garden 1974)", "(from The Glenn Miller Story)".
BRACKET_OPENERS = frozenset(
    "live remaster remastered digitally from feat ft featuring recorded mono stereo bonus "
    "demo single radio taken original version alternate extended instrumental acoustic "
    "vocal vocals voc".split()     # "(Vocal Harold Arlen)" on a 1930s dance-band record
)
# A " - " part is only dropped on stronger evidence: "Live and Let Die" is a title.
_PART_NOTE = re.compile(
    r"^(?:live (?:at|in|from|on)\b|recorded (?:at|in|live)\b|(?:18|19|20)\d\d (?:digital )?"
    r"(?:remaster|remastered|version|mix|mono|stereo|recording)\b|remastered\b|digitally remastered\b|"
    r"from (?:the )?(?:film|movie|musical|motion picture|soundtrack)\b)"
)


# Words that mark a bracketed group as a note wherever they stand in it, so that a
# misspelt "(Digiatlly Remastered)" still goes.
STRONG_MARKERS = frozenset(
    "remaster remastered remastering digitally mono stereo version remix demo bonus lyrics "
    "video explicit anniversary deluxe reissue soundtrack instrumental".split()
)


# A " - " part of one word is only a note about the recording when it is one of these.
LONE_NOTES = frozenset(
    "live mono stereo remaster remastered remix demo instrumental acoustic explicit lyrics edit version".split()
)


def _is_marker(word: str) -> bool:
    """A decoration word, allowing one slip in words of five letters or more
    ("Remasrer", "Viedo"); shorter words must be exact, or "love" would pass for "live"."""
    if word in STRONG_MARKERS or word in NOISE_MARKERS:
        return True
    return len(word) >= 5 and any(OSA.distance(word, m, score_cutoff=1) <= 1 for m in _FUZZY_MARKERS)


_FUZZY_MARKERS = tuple(m for m in STRONG_MARKERS | NOISE_MARKERS if len(m) >= 5)


def _is_noise(group: str, *, bracketed: bool = False) -> bool:
    words = _words(group).split()
    if not words:
        return True
    if all(_YEAR.match(w) or w.isdigit() for w in words):
        return True
    if words[0] in ("feat", "ft", "featuring"):
        return True
    if any(_is_marker(w) for w in words) and all(
        w in NOISE_WORDS or w.isdigit() or _is_marker(w) for w in words
    ) and (bracketed or len(words) > 1 or words[0] in LONE_NOTES):
        return True  # "Single Vesrion", "- Mono"; but "The Corrs - Radio" keeps its title
    if bracketed:
        return words[0] in BRACKET_OPENERS or any(w in STRONG_MARKERS for w in words)
    if len(words) <= 4 and any(_YEAR.match(w) for w in words) and any(_is_marker(w) for w in words):
        return True  # "1995 Diigital Remaster", "Rmeastered 1992"
    return bool(_PART_NOTE.match(" ".join(words)))


def _drop_noise_brackets(text: str) -> tuple[str, str]:
    """Remove decorating bracket groups. Returns (with other brackets' words kept,
    with every bracket group removed) — "Fools Rush In (Where Angels Fear to Tread)" is
    known by both names."""
    kept, short = text, text
    while True:
        m = _BRACKETS.search(kept)
        if not m:
            break
        inner = m.group(1)
        replacement = " " if _is_noise(inner, bracketed=True) else f" {inner} "
        kept = kept[: m.start()] + replacement + kept[m.end():]
    short = _BRACKETS.sub(" ", short)
    while _BRACKETS.search(short):
        short = _BRACKETS.sub(" ", short)
    short = re.sub(r"[\(\)\[\]\{\}]", " ", short)
    kept = re.sub(r"[\(\)\[\]\{\}]", " ", kept)
    return kept, short


def _clean_part(part: str, *, artist: bool = False, only_part: bool = False) -> str:
    # "Artist feat. Guest - Title": the guest goes. With no separator ("artist feat. guest
    # title") there is no telling where the guest ends, so only the word "feat." goes.
    part = (_FEAT_WORD if only_part else _FEAT).sub(" ", part)
    words = _words(part)
    if artist:
        words = " ".join((_ORCHESTRA_PHRASE if only_part else _ORCHESTRA).sub(" ", words).split())
    if words.startswith("the "):
        words = words[4:]
    return words


def split_parts(text: str) -> list[str]:
    """Split a file name or "artist - title" string into its normalised parts, dropping
    track numbers, file extensions and parts that only decorate ("Remastered 2009").

    "01 - The Beatles - Hey Jude (Remastered 2009).mp3" → ["beatles", "hey jude"]
    """
    text = fold(text.strip())
    is_file = bool(_EXTENSION.search(text))
    text = _EXTENSION.sub("", text)
    text = _TRACK_NUMBER.sub("", text, count=1)       # before "_" goes: "14_Title" is a track number
    text = text.replace("_", " ")
    # "03 Title", and in a file name "14 Title" too ("99 Luftballons" needs its tag).
    text = (_FILE_TRACK if is_file else _ZERO_PADDED).sub("", text, count=1)
    kept, _ = _drop_noise_brackets(text)
    raws = [raw.strip(" -._") for raw in _SEPARATORS.split(kept)]
    raws = [raw for raw in raws if raw and not (raw.isdigit() and len(raw) <= 3)]
    kept_raws = [raw for raw in raws if not _is_noise(raw)]
    only = len(kept_raws) == 1
    # Every part may be the artist, so band suffixes ("and his orchestra") go from each.
    parts = [_clean_part(raw, artist=True, only_part=only) for raw in kept_raws]
    parts = [p for p in parts if p]
    if not parts:  # a song called "1999" is a song, not decoration
        parts = [p for p in (_clean_part(raw) for raw in raws) if p]
    return parts


def normalise(text: str) -> str:
    """The comparable form of any song string: one line of plain lowercase words.

    >>> normalise("03 - Édith Piaf — La Vie En Rose (Remastered 2005).flac")
    'edith piaf la vie en rose'
    """
    return " ".join(split_parts(text))


def normalise_title(title: str) -> tuple[str, str]:
    """A catalogue title's comparable forms: (full, without any bracketed part)."""
    title = fold(title)
    kept, short = _drop_noise_brackets(title)
    full = _clean_part(kept)
    short_clean = _clean_part(short)
    return full, short_clean or full


def normalise_artist(artist: str) -> str:
    """A catalogue artist's comparable form: "The Glenn Miller & His Orchestra feat. X" →
    "glenn miller"."""
    text = fold(artist)
    kept, _ = _drop_noise_brackets(text)
    return _clean_part(kept, artist=True)
