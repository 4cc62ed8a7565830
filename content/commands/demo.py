"""`demo`: give an empty library a demo resident with public-domain songs and a month of
made-up listening, so the care report has something to show."""
from __future__ import annotations

import argparse

from content import library
from content.care.seed import seed_month
from content.demo import DEMO_RESIDENT, ensure_demo


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help="add demo songs and a month of listening to an empty library")
    p.add_argument("--history", action="store_true",
                   help="add the made-up month to a resident who has no listening history yet")
    p.add_argument("--resident", metavar="NAME", default=DEMO_RESIDENT,
                   help=f"whose history --history makes up (default: {DEMO_RESIDENT})")
    p.set_defaults(func=demo)


def demo(args, ctx) -> int:
    lines = ensure_demo(ctx.db, ctx.media)
    if lines:
        for line in lines:
            print(line, file=ctx.out)
    elif not args.history:
        print(f"The library at {ctx.data_dir} already has residents; no demo songs added.", file=ctx.out)
        return 0
    if lines or args.history:
        resident = library.resident_by_name(ctx.db, DEMO_RESIDENT if lines else args.resident)
        month = seed_month(ctx.db, resident.id)
        print(f"Made up {resident.name}'s listening from {month.start} to {month.end}: {month.sessions} sessions, "
              f"{month.minutes:.0f} minutes, {sum(month.kinds.values())} reactions. "
              f"See their care report in the admin.", file=ctx.out)
    print(f"The library is ready at {ctx.data_dir}.", file=ctx.out)
    return 0
