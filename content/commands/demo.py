"""`demo`: give an empty library a demo resident with public-domain songs."""
from __future__ import annotations

import argparse

from content.demo import ensure_demo


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help="add demo songs to an empty library")
    p.set_defaults(func=demo)


def demo(args, ctx) -> int:
    lines = ensure_demo(ctx.db, ctx.media)
    if not lines:
        print(f"The library at {ctx.db_path} already has residents; no demo songs added.", file=ctx.out)
        return 0
    for line in lines:
        print(line, file=ctx.out)
    print(f"The library is ready at {ctx.data_dir}.", file=ctx.out)
    return 0
