"""The bundled reference catalogue of songs and their original years.

`data/songs.csv` (title, artist, earliest year, sources) is compiled from public charts and
lists; see `data/SOURCES.md` and `data/NOTICE` for the sources and the attribution they
require (FiveThirtyEight's classic-rock list is CC BY 4.0).

Loading normalises every row once. To keep the kiosk's and the admin's start quick, the
normalised form is kept in a JSON file beside the data (`songs.prepared.json`, written by
`python -m content.era.catalogue` at setup, or on first use when the folder is writable);
it carries the CSV's hash, so an edited CSV is never read through a stale prepared form.
JSON rather than pickle: loading it can never run code.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from content.durable import write_atomic
from content.era.normalise import normalise_artist, normalise_title

DATA_DIR = Path(__file__).with_name("data")
CATALOGUE_CSV = DATA_DIR / "songs.csv"
PREPARED_SUFFIX = ".prepared.json"

@lru_cache(maxsize=1)
def normaliser_version() -> str:
    """Changes whenever the normalising rules change, so that prepared files and stored
    year decisions made under old rules are redone rather than trusted."""
    from content.era import normalise

    return hashlib.sha256(Path(normalise.__file__).read_bytes()).hexdigest()[:8]


@dataclass(frozen=True)
class Entry:
    """One catalogue song. `year` is the earliest year any source gives for it."""

    title: str
    artist: str
    year: int
    source: str


@dataclass(frozen=True)
class Catalogue:
    """The catalogue's rows with their normalised forms, index-aligned."""

    entries: tuple[Entry, ...]
    artists: tuple[str, ...]        # normalised artist ("" when the source gives none)
    titles: tuple[str, ...]         # normalised title, bracketed words kept
    short_titles: tuple[str, ...]   # normalised title without bracketed words
    version: str                    # identifies the data and the normaliser

    def __len__(self) -> int:
        return len(self.entries)


def _hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_entries(path: Path) -> list[Entry]:
    with open(path, newline="", encoding="utf-8") as f:
        return [
            Entry(title=r["title"].strip(), artist=(r.get("artist") or "").strip(), year=int(r["year"]),
                  source=(r.get("source") or "").strip())
            for r in csv.DictReader(f)
            if r.get("title") and (r.get("year") or "").strip().isdigit()
        ]


def from_entries(entries: list[Entry] | tuple[Entry, ...], version: str = "") -> Catalogue:
    """Build a catalogue from rows in memory (benchmarks and tests use synthetic ones)."""
    artists, titles, shorts = [], [], []
    for e in entries:
        full, short = normalise_title(e.title)
        artists.append(normalise_artist(e.artist))
        titles.append(full)
        shorts.append(short)
    if not version:
        digest = hashlib.sha256()
        for e in entries:
            digest.update(f"{e.title}\x1f{e.artist}\x1f{e.year}\x1e".encode())
        version = digest.hexdigest()[:16]
    return Catalogue(tuple(entries), tuple(artists), tuple(titles), tuple(shorts), f"{version}.n{normaliser_version()}")


def prepared_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + PREPARED_SUFFIX)


def prepare(csv_path: Path = CATALOGUE_CSV) -> Path:
    """Write the prepared form next to the CSV (run at setup)."""
    return _write_prepared(load_unprepared(csv_path), prepared_path(csv_path))


def _write_prepared(cat: Catalogue, out: Path) -> Path:
    """Atomically: a temp file in the same folder, then rename."""
    payload = {
        "version": cat.version,
        "rows": [[e.title, e.artist, e.year, e.source, a, t, s]
                 for e, a, t, s in zip(cat.entries, cat.artists, cat.titles, cat.short_titles)],
    }
    write_atomic(out, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    return out


def load(csv_path: Path = CATALOGUE_CSV) -> Catalogue:
    """Read the catalogue, through its prepared form when that is current."""
    version = f"{_hash_file(csv_path)}.n{normaliser_version()}"
    prepared = prepared_path(csv_path)
    try:
        payload = json.loads(prepared.read_text(encoding="utf-8"))
        if payload.get("version") == version:
            rows = payload["rows"]
            return Catalogue(
                tuple(Entry(r[0], r[1], r[2], r[3]) for r in rows),
                tuple(r[4] for r in rows), tuple(r[5] for r in rows), tuple(r[6] for r in rows),
                version,
            )
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        pass
    cat = load_unprepared(csv_path)
    try:
        _write_prepared(cat, prepared)
    except OSError:  # a read-only install: normalised in memory this time
        pass
    return cat


def load_unprepared(csv_path: Path = CATALOGUE_CSV) -> Catalogue:
    return from_entries(read_entries(csv_path), _hash_file(csv_path))


@lru_cache(maxsize=4)
def bundled(csv_path: Path = CATALOGUE_CSV) -> Catalogue:
    """The bundled catalogue, loaded once per process (it never changes while running)."""
    return load(csv_path)


if __name__ == "__main__":
    written = prepare()
    print(f"Prepared {len(load())} catalogue songs in {written}.")
