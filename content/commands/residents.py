"""`residents add|list`."""
from __future__ import annotations

import argparse
import json

from content import library


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
