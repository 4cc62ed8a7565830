"""Era engine figures: catalogue loading, matching speed and accuracy, queue building.

    .venv/bin/python bench/bench_era.py

Prints figures and never fails. Matching is measured on 1,000 messy names made from the
catalogue with the labelled set's noise (tests/data/era_labelled.py, another seed), against
the real catalogue and against a 50,000-row catalogue padded with synthetic songs built
from the real catalogue's own words (realistic near-misses), beside the earlier approach
(rapidfuzz cdist shortlist + WRatio) and difflib on 50 names.
"""
from __future__ import annotations

import difflib
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from content import db as dbmod  # noqa: E402
from content import library  # noqa: E402
from content.era import catalogue as era_catalogue  # noqa: E402
from content.era.catalogue import Entry  # noqa: E402
from content.era.match import Matcher  # noqa: E402
from content.era.normalise import normalise, normalise_artist, normalise_title  # noqa: E402
from content.queue import Candidate, QueueContext, build_queue, next_songs  # noqa: E402

QUERIES = 1000
SYNTHETIC_TOTAL = 50_000


def _labelled_module():
    spec = importlib.util.spec_from_file_location("era_labelled", ROOT / "tests" / "data" / "era_labelled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _key(title: str, artist: str) -> tuple[str, str]:
    return normalise_title(title)[0], normalise_artist(artist)


def _right(found: Entry | None, row: dict) -> bool:
    if found is None:
        return False
    if _key(found.title, found.artist) == _key(row["title"], row["artist"]):
        return True
    # A bare title may rightly find the same title under another name or an earlier artist.
    return row["kind"] == "title" and bool(set(normalise_title(found.title)) & set(normalise_title(row["title"])))


def synthetic(real: list[Entry], total: int, seed: int = 5) -> list[Entry]:
    rng = random.Random(seed)
    title_words = [w for e in real for w in e.title.split()]
    artist_words = [w for e in real for w in e.artist.split()]
    extra = []
    while len(real) + len(extra) < total:
        title = " ".join(rng.choice(title_words) for _ in range(rng.randint(1, 5)))
        artist = " ".join(rng.choice(artist_words) for _ in range(rng.randint(1, 3)))
        extra.append(Entry(title, artist, rng.randint(1920, 1999), "synthetic"))
    return real + extra


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def bench_loading() -> None:
    print("Catalogue")
    _, unprepared = timed(era_catalogue.load_unprepared)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "songs.csv"
        copy.write_bytes(era_catalogue.CATALOGUE_CSV.read_bytes())
        era_catalogue.load(copy)
        cat, prepared = timed(era_catalogue.load, copy)
    _, build = timed(Matcher, cat)
    print(f"  {len(cat):,} songs: read + normalise {unprepared * 1000:.0f} ms; "
          f"from the prepared form {prepared * 1000:.0f} ms; matcher index {build * 1000:.0f} ms")


def bench_matching(real: list[Entry], rows: list[dict]) -> None:
    queries = [r["query"] for r in rows]
    for label, entries in (("full catalogue", real), ("50,000-row catalogue", synthetic(real, SYNTHETIC_TOTAL))):
        cat = era_catalogue.from_entries(entries)
        matcher, build = timed(Matcher, cat)
        matcher.best("warm up the misspelling index")
        found, seconds = timed(lambda: [matcher.match(q) for q in queries])
        right = sum(_right(m and cat.entries[m.index], r) for m, r in zip(found, rows))
        answered = sum(m is not None for m in found)
        wrong = answered - right
        print(f"  {label} ({len(cat):,} rows, index {build:.2f} s): {len(queries)} names in {seconds:.2f} s "
              f"({seconds / len(queries) * 1e6:.0f} µs each); top-1 right {right / len(rows):.1%}, "
              f"wrong {wrong / len(rows):.1%}, no answer {1 - answered / len(rows):.1%}")
        if len(cat) >= SYNTHETIC_TOTAL:
            bench_cdist_baseline(cat, rows)
            bench_difflib(cat, rows[:50])


def bench_cdist_baseline(cat, rows: list[dict]) -> None:
    """The earlier approach, on the same names and rows: cdist(token_sort_ratio) shortlist of
    20 on normalised strings, then WRatio re-rank."""
    choices = [f"{a} {t}".strip() for a, t in zip(cat.artists, cat.titles)]
    queries = [normalise(r["query"]) for r in rows]
    started = time.perf_counter()
    scores = process.cdist(queries, choices, scorer=fuzz.token_sort_ratio, dtype="uint8", workers=-1)
    right = 0
    for qi, q in enumerate(queries):
        shortlist = scores[qi].argsort()[-20:]
        best = max(shortlist, key=lambda i: fuzz.WRatio(q, choices[i]))
        right += _right(cat.entries[best], rows[qi])
    seconds = time.perf_counter() - started
    print(f"    earlier approach (cdist token_sort shortlist + WRatio): {seconds:.2f} s, top-1 right {right / len(rows):.1%}")


def bench_difflib(cat, rows: list[dict]) -> None:
    choices = [f"{a} {t}".strip() for a, t in zip(cat.artists, cat.titles)]
    index = {c: i for i, c in reversed(list(enumerate(choices)))}
    started = time.perf_counter()
    right = 0
    for r in rows:
        best = difflib.get_close_matches(normalise(r["query"]), choices, n=1, cutoff=0.0)
        right += bool(best) and _right(cat.entries[index[best[0]]], r)
    seconds = time.perf_counter() - started
    print(f"    difflib get_close_matches, {len(rows)} names: {seconds:.1f} s ({seconds / len(rows):.2f} s each), "
          f"top-1 right {right / len(rows):.1%}")


def bench_queue() -> None:
    print("Queue for a 5,000-song library")
    rng = random.Random(1)
    pool = [Candidate(i, f"Song {i}", f"Artist {i % 900}", rng.randint(1925, 1995) if i % 20 else None,
                      favourite=i % 25 == 0, early_skips=rng.choice((0, 0, 0, 1, 3)),
                      last_played_s_ago=rng.uniform(0, 86400) if i % 4 == 0 else None) for i in range(1, 5001)]
    ctx = QueueContext(birth_year=1938, recent=(1, 2, 3))
    times = [timed(build_queue, pool, ctx, random.Random(k), 20)[1] for k in range(50)]
    print(f"  build_queue (pure), 20 songs: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        db = dbmod.connect(Path(tmp) / "library.db")
        mary = library.add_resident(db, "Mary", birth_year=1938)
        with dbmod.write(db):
            db["songs"].insert_all(({
                "id": c.song_id, "sha256": f"{c.song_id:064x}", "ext": "mp3", "format": "mp3", "title": c.title,
                "artist": c.artist, "duration": 180, "size_bytes": 1,
            } for c in pool), batch_size=1000)
            db["resident_songs"].insert_all(({"resident_id": mary.id, "song_id": c.song_id, "title": c.title,
                                              "artist": c.artist, "year": c.year, "favourite": int(c.favourite)}
                                             for c in pool), batch_size=1000)
            db["plays"].insert_all(({"resident_id": mary.id, "song_id": rng.randint(1, 5000),
                                     "started_at": f"2026-11-{rng.randint(1, 24):02d}T10:00:00Z",
                                     "seconds_heard": rng.uniform(0, 200), "ended_how": rng.choice(("finished", "next"))}
                                    for _ in range(20_000)), batch_size=1000)
        times = [timed(next_songs, db, mary.id, random.Random(k))[1] for k in range(20)]
        print(f"  next_songs from SQLite (5,000 songs, 20,000 plays): median {statistics.median(times) * 1000:.1f} ms")
        db.close()


def main() -> None:
    print(f"bench_era on {os.cpu_count()} cores")
    bench_loading()
    real = era_catalogue.read_entries(era_catalogue.CATALOGUE_CSV)
    labelled = _labelled_module()
    rows = labelled.build(real, QUERIES, seed=99)
    print(f"Matching {len(rows)} messy names (threshold {Matcher(era_catalogue.bundled()).threshold:.0f})")
    bench_matching(real, rows)
    bench_queue()


if __name__ == "__main__":
    main()
