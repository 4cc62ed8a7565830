"""`residents add|list|delete`."""
from __future__ import annotations

import argparse
import json
import sys

from content import library, privacy


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("residents", help="add or list residents")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = rsub.add_parser("add", parents=[common], help="add a resident")
    add.add_argument("name", help="the name the resident likes to be called")
    add.add_argument("--birth-year", type=int, default=None)
    add.set_defaults(func=add_resident)
    ls = rsub.add_parser("list", parents=[common], help="list residents")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_residents)
    rm = rsub.add_parser("delete", parents=[common],
                         help="delete a resident and everything about them (asks for the name again)")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--confirm", metavar="NAME", help="the name again, for scripts (otherwise it is asked for)")
    rm.set_defaults(func=delete_resident)


def add_resident(args, ctx) -> int:
    r = library.add_resident(ctx.db, args.name, birth_year=args.birth_year)
    born = f", born {r.birth_year}" if r.birth_year else ""
    print(f"Added {r.name}{born}.", file=ctx.out)
    return 0


def list_residents(args, ctx) -> int:
    rows = library.list_residents(ctx.db)
    counts = {r["resident_id"]: r["n"] for r in ctx.db.query(
        "SELECT resident_id, COUNT(*) AS n FROM resident_songs GROUP BY resident_id")}
    if args.json:
        print(json.dumps([{"id": r.id, "name": r.name, "birth_year": r.birth_year, "songs": counts.get(r.id, 0)}
                          for r in rows], indent=2), file=ctx.out)
        return 0
    if not rows:
        print("No residents yet. Add one with: python -m content residents add NAME", file=ctx.out)
    for r in rows:
        born = f"born {r.birth_year}" if r.birth_year else "birth year not set"
        print(f"{r.name} ({born}): {counts.get(r.id, 0)} songs", file=ctx.out)
    return 0


def delete_resident(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.name)
    typed = args.confirm
    if typed is None:
        print(f"This deletes {resident.name}, their photo, history, reactions, the songs no other resident has, "
              f"and family accounts that were only for {resident.name}. It cannot be undone.", file=ctx.out)
        print(f"Type {resident.name}'s name again to delete them: ", end="", file=ctx.out, flush=True)
        typed = sys.stdin.readline().strip()
    done = privacy.delete_resident(ctx.db, ctx.media, resident.id, confirm_name=typed)
    print(f"Deleted {resident.name}: {done.plays} plays, {done.reactions} reactions, {done.songs_removed} songs "
          f"no one else had ({done.songs_kept} shared songs stay for the others), "
          f"{done.accounts_removed} family accounts.", file=ctx.out)
    return 0
