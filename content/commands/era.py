"""`year TEXT` and `years --resident NAME [--fix]`: original years from the catalogue."""
from __future__ import annotations

import argparse
import json

from content import library
from content.era import years as era_years
from content.era.match import default_matcher


def register(sub, common: argparse.ArgumentParser) -> None:
    one = sub.add_parser("year", parents=[common], help="look up a song's original year in the catalogue")
    one.add_argument("text", metavar="TEXT", help='a song name, file name or "artist - title"')
    one.set_defaults(func=year)

    many = sub.add_parser("years", parents=[common], help="review (and fix) the years of a resident's songs")
    who = many.add_mutually_exclusive_group(required=True)
    who.add_argument("--resident", metavar="NAME")
    who.add_argument("--all", action="store_true", help="every song in the library (after a catalogue update)")
    many.add_argument("--fix", action="store_true",
                      help="redo automatic years that are out of date (years typed by a person stay)")
    many.add_argument("--json", action="store_true")
    many.set_defaults(func=review_years)


def year(args, ctx) -> int:
    """Prints one JSON object; {"match": null} when nothing in the catalogue is close enough."""
    found = default_matcher().match(args.text)
    if found is None:
        print(json.dumps({"match": None}), file=ctx.out)
        return 0
    print(json.dumps({"title": found.title, "artist": found.artist, "year": found.year,
                      "source": found.source, "score": found.score}, ensure_ascii=False), file=ctx.out)
    return 0


def _describe(year: int | None, source: str | None, confidence: float | None) -> str:
    if year is None:
        return "no year"
    how = {"family": "entered by a person", "catalogue": "catalogue", "tag": "file's tag",
           "filename": "file name"}.get(source or "", source or "?")
    if source == "catalogue" and confidence is not None:
        how += f", {confidence:.0f}% sure"
    return f"{year} ({how})"


def review_years(args, ctx) -> int:
    if args.all:
        whose, rid = "The library", None
    else:
        resident = library.resident_by_name(ctx.db, args.resident)
        whose, rid = resident.name, resident.id
    matcher = default_matcher()
    changed = {(r.resident_id, r.song_id) for r in era_years.resolve_stale(ctx.db, rid, matcher=matcher)} \
        if args.fix else set()
    reviews = era_years.review(ctx.db, rid, matcher=matcher)
    if args.json:
        print(json.dumps([{
            "resident_id": r.resident_id, "song_id": r.song_id, "title": r.title, "artist": r.artist, "year": r.year,
            "source": r.source, "confidence": r.confidence, "stale": r.stale,
            "fixed": (r.resident_id, r.song_id) in changed,
            "proposed": {"year": r.proposed.year, "source": r.proposed.source, "confidence": r.proposed.confidence,
                         "match": None if r.proposed.match is None else {
                             "title": r.proposed.match.title, "artist": r.proposed.match.artist,
                             "year": r.proposed.match.year}},
        } for r in reviews], indent=2, ensure_ascii=False), file=ctx.out)
        return 0
    if not reviews:
        print(f"{whose} has no songs yet.", file=ctx.out)
        return 0
    pending = 0
    for r in reviews:
        by = f" by {r.artist}" if r.artist else ""
        line = f"{_describe(r.year, r.source, r.confidence)}: {r.title}{by}"
        m = r.proposed.match
        if r.source == "catalogue" and m is not None:
            line += f" = catalogue's “{m.title}”" + (f" by {m.artist}" if m.artist else "")
        if (r.resident_id, r.song_id) in changed:
            line += "  [fixed]"
        elif r.stale or r.would_change:
            pending += 1
            line += f"  [out of date: would be {_describe(r.proposed.year, r.proposed.source, r.proposed.confidence)}]"
        print(line, file=ctx.out)
    if changed:
        print(f"Fixed {len(changed)} song{'s' if len(changed) != 1 else ''}.", file=ctx.out)
    if pending:
        print(f"{pending} song{'s are' if pending != 1 else ' is'} out of date; "
              f"run again with --fix to update {'them' if pending != 1 else 'it'}.", file=ctx.out)
    return 0
