"""`import`, `songs list`, `check`: getting songs in, seeing them, keeping the library whole."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from content import integrity, library
from content.db import LibraryError
from content.ingest import ingest_file
from content.probe import Prober
from content.progress import Progress


def register(sub, common: argparse.ArgumentParser) -> None:
    imp = sub.add_parser("import", parents=[common], help="import song files and folders for a resident")
    imp.add_argument("--resident", required=True, metavar="NAME")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    imp.set_defaults(func=import_songs)

    songs = sub.add_parser("songs", help="see a resident's songs")
    ssub = songs.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = ssub.add_parser("list", parents=[common], help="list a resident's songs")
    ls.add_argument("--resident", required=True, metavar="NAME")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_songs)

    chk = sub.add_parser("check", parents=[common], help="check that the library is whole")
    chk.add_argument("--repair", action="store_true", help="remove leftovers and rows whose file is gone")
    chk.set_defaults(func=check)


def collect(paths: list[Path]) -> list[Path]:
    """Files named, and every file under folders named, in a stable order. Hidden files
    (.DS_Store, ._ resource forks from Macs) are skipped; symlinks are not followed."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
        else:
            found.append(p)
    return found


def import_songs(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.resident)
    files = collect(args.paths)
    if not files:
        raise LibraryError("No files were found there.")
    counts = {"added": 0, "duplicate": 0, "refused": 0}
    progress = Progress(len(files), stream=ctx.err)
    with Prober() as prober:
        for i, f in enumerate(files, 1):
            progress.update(i - 1, f.name)
            if not f.exists():
                counts["refused"] += 1
                progress.clear()
                print(f"refused: {f}: there is no file or folder there", file=ctx.out, flush=True)
                continue
            result = ingest_file(ctx.db, ctx.media, f, resident_id=resident.id, prober=prober)
            counts[result.status] += 1
            progress.clear()
            print(result.line(), file=ctx.out, flush=True)
        progress.update(len(files), "")
        progress.clear()
    print(f"{counts['added']} added, {counts['duplicate']} already there, {counts['refused']} refused "
          f"for {resident.name}.", file=ctx.out)
    return 1 if counts["refused"] else 0


def list_songs(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.resident)
    songs = library.resident_songs(ctx.db, resident.id)
    if args.json:
        print(json.dumps([{
            "id": s.song_id, "title": s.title, "artist": s.artist, "album": s.album, "year": s.year,
            "year_source": s.year_source, "duration": s.duration, "favourite": s.favourite,
            "never_play": s.never_play, "note": s.note, "unplayable": s.unplayable,
        } for s in songs], indent=2, ensure_ascii=False), file=ctx.out)
        return 0
    if not songs:
        print(f"{resident.name} has no songs yet.", file=ctx.out)
    for s in songs:
        marks = "".join([" ★" if s.favourite else "", " (never play)" if s.never_play else "",
                         " (cannot be played)" if s.unplayable else ""])
        year = f" ({s.year})" if s.year else ""
        who = f"{s.artist} – " if s.artist else ""
        print(f"{who}{s.title}{year}{marks}", file=ctx.out)
    return 0


def check(args, ctx) -> int:
    report = integrity.check(ctx.db, ctx.media, repair=args.repair)
    for line in report.sqlite:
        print(f"database problem: {line}", file=ctx.out)
    for sid in report.missing_files:
        print(f"song {sid} has no file", file=ctx.out)
    for name in report.orphan_files:
        print(f"file {name} belongs to no song", file=ctx.out)
    for name in report.scratch_files:
        print(f"unfinished file {name}", file=ctx.out)
    for line in report.repaired:
        print(f"repaired: {line}", file=ctx.out)
    if report.ok:
        print("The library is whole.", file=ctx.out)
        return 0
    if args.repair and not report.sqlite:
        print("The library has been repaired.", file=ctx.out)
        return 0
    if report.sqlite:
        print("The database itself is damaged: restore it from a backup.", file=ctx.out)
    else:
        print("Run with --repair to fix this.", file=ctx.out)
    return 1


