"""`import`, `songs list`, `check`: getting songs in, seeing them, keeping the library whole."""
from __future__ import annotations

import argparse
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from content import analyse, integrity, library
from content.db import LibraryError
from content.ingest import IngestResult, ingest_many
from content.probe import ProberPool
from content.progress import Progress
from content.sync import config as box_link
from content.sync.send import send_songs


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

    an = sub.add_parser("analyse", parents=[common],
                        help="measure the loudness and tempo of songs that have not been measured yet")
    an.add_argument("--all", action="store_true", help="measure every song again")
    an.set_defaults(func=analyse_songs)

    chk = sub.add_parser("check", parents=[common], help="check that the library is whole")
    chk.add_argument("--repair", action="store_true", help="remove leftovers and rows whose file is gone")
    chk.set_defaults(func=check)


FOLDER_UNREADABLE = "This folder could not be opened, so the songs in it were skipped."


@dataclass(frozen=True)
class Collected:
    """What an import will look at: the files, and the folders it could not open (each
    reported in one plain sentence, never a traceback)."""

    files: list[Path]
    unreadable: list[Path]


def collect(paths: list[Path]) -> Collected:
    """Files named, and every file under folders named, in a stable order. Hidden files
    (.DS_Store, ._ resource forks from Macs) are skipped; symlinks are not followed. A
    name that cannot even be looked at goes on as a file, for ingest to explain."""
    found: list[Path] = []
    unreadable: list[Path] = []

    def refused(error: OSError) -> None:
        unreadable.append(Path(error.filename))

    for p in paths:
        try:
            folder = stat.S_ISDIR(os.stat(p).st_mode)
        except OSError:
            folder = False
        if folder:
            for root, dirs, files in os.walk(p, onerror=refused):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
        else:
            found.append(p)
    return Collected(found, unreadable)


def import_songs(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.resident)
    collected = collect(args.paths)
    files = collected.files
    counts = {"added": 0, "duplicate": 0, "refused": len(collected.unreadable)}
    for folder in collected.unreadable:
        print(f"refused: {folder.name}: {FOLDER_UNREADABLE}", file=ctx.out, flush=True)
    if not files:
        if collected.unreadable:
            print(f"0 added, 0 already there, {counts['refused']} refused for {resident.name}.", file=ctx.out)
            return 1
        raise LibraryError("No files were found there.")
    link = box_link.load(ctx.data_dir)
    if link is not None:
        # A box in hub mode: songs are curated on the hub, and come back through the sync agent.
        sent = send_songs(link, resident.id, files, ctx.out)
        for status, n in sent.items():
            counts[status] = counts.get(status, 0) + n
        print(f"{counts['added']} added, {counts['duplicate']} already there, {counts['refused']} refused "
              f"for {resident.name} on the hub; this box receives them shortly.", file=ctx.out)
        return 1 if counts["refused"] else 0
    progress = Progress(len(files), stream=ctx.err)
    done = 0

    def show(path: Path, result: IngestResult) -> None:
        nonlocal done
        done += 1
        counts[result.status] += 1
        progress.clear()
        print(result.line(), file=ctx.out, flush=True)
        progress.update(done, path.name)

    progress.update(0, files[0].name)
    with ProberPool() as pool:
        ingest_many(ctx.db, ctx.media, files, pool=pool, resident_id=resident.id, on_result=show)
    progress.clear()
    print(f"{counts['added']} added, {counts['duplicate']} already there, {counts['refused']} refused "
          f"for {resident.name}.", file=ctx.out)
    return 1 if counts["refused"] else 0


def analyse_songs(args, ctx) -> int:
    todo = analyse.pending(ctx.db, everything=args.all)
    if not todo:
        print("Every song has been measured already.", file=ctx.out)
        return 0
    progress = Progress(len(todo), stream=ctx.err)
    done = 0
    failed = 0

    def show(outcome: analyse.Outcome) -> None:
        nonlocal done, failed
        done += 1
        if not outcome.ok:
            failed += 1
            progress.clear()
            print(f"could not measure song {outcome.song_id}: {outcome.problem}", file=ctx.out, flush=True)
        progress.update(done, outcome.name)

    progress.update(0, "")
    with ProberPool() as pool:
        analyse.run(ctx.db, ctx.media, todo, pool=pool, on_outcome=show)
    progress.clear()
    print(f"{done - failed} songs measured" + (f", {failed} could not be" if failed else "") + ".", file=ctx.out)
    return 1 if failed else 0


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


