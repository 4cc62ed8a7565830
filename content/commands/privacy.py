"""`export`: one resident's everything as a ZIP. (Deleting a resident is `residents delete`.)"""
from __future__ import annotations

import argparse
from pathlib import Path

from content import library, privacy
from content.db import LibraryError


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("export", parents=[common], help="everything about one resident, as one ZIP file")
    p.add_argument("--resident", required=True, metavar="NAME")
    p.add_argument("--to", dest="target", required=True, type=Path, metavar="FILE.zip")
    p.set_defaults(func=export)


def export(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.resident)
    target = args.target
    if not target.parent.is_dir():
        raise LibraryError(f"There is no folder {target.parent} to write {target.name} in.")
    privacy.export_resident(ctx.db, ctx.media, resident.id, target)
    print(f"Wrote everything about {resident.name} to {target}. It holds personal and health information: "
          "keep it as safely as the care records.", file=ctx.out)
    return 0
