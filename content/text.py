"""Text from people (admin forms, the command line, the sync agent) made fit to store and
show: normalised Unicode, no control or formatting characters (a terminal escape in a title
must not reach `content songs list`, a right-to-left override must not disguise a name),
and sensible lengths, refused in plain words rather than cut without a word."""
from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import TypeVar

from content.db import LibraryError

Word = TypeVar("Word", bound=StrEnum)

TITLE_MAX = 200
NAME_MAX = 100
NOTE_MAX = 1000
SEARCH_MAX = 100


def _printable(text: str, keep_newlines: bool) -> str:
    text = unicodedata.normalize("NFC", str(text or ""))
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch)[0] == "C":
            out.append(" ")       # control, format, private-use or unassigned
        else:
            out.append(ch)
    return "".join(out)


def clean_line(text: str | None, what: str, limit: int = TITLE_MAX) -> str:
    """One line: single spaces, nothing unprintable. Longer than `limit` is refused."""
    line = " ".join(_printable(text or "", keep_newlines=False).split())
    if len(line) > limit:
        raise LibraryError(f"The {what} is too long; please keep it under {limit} letters.")
    return line


def clean_note(text: str | None, what: str = "note", limit: int = NOTE_MAX) -> str:
    """Several lines (a note, a reason): line breaks kept, nothing else unprintable."""
    lines = [" ".join(line.split()) for line in _printable((text or "").replace("\r\n", "\n"), True).split("\n")]
    note = "\n".join(lines).strip()
    if len(note) > limit:
        raise LibraryError(f"The {what} is too long; please keep it under {limit} letters.")
    return note


def search_words(text: str | None) -> str:
    """What was typed in a search box, cut to a length any search can handle."""
    return " ".join(_printable(text or "", keep_newlines=False).split())[:SEARCH_MAX]


def one_of(vocabulary: type[Word], typed: str, refusal: str) -> Word:
    """`typed` as a word of `vocabulary`; any other word is refused with `refusal`."""
    try:
        return vocabulary(typed)
    except ValueError:
        raise LibraryError(refusal) from None
