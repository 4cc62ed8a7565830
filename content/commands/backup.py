"""`backup --to FILE` and `restore FILE [--force]`: the whole library in one file."""
from __future__ import annotations

import argparse
from pathlib import Path

from content import backup as backupmod
from content import restore as restoremod


def register(sub, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser("backup", parents=[common],
                       help="write the whole library (database and songs) to one file",
                       description="Safe while Evergreen is running.")
    b.add_argument("--to", dest="to", type=Path, required=True, metavar="FILE",
                   help="the backup file to write, e.g. /media/usb/evergreen-2024-05-01.tar")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", parents=[common],
                       help="replace the library with one from a backup file",
                       description="Stop Evergreen's services first.")
    r.add_argument("file", type=Path, metavar="FILE", help="a file written by `backup`")
    r.add_argument("--force", action="store_true",
                   help="replace a library that already has residents, songs or history")
    r.set_defaults(func=run_restore)


def run_backup(args, ctx) -> int:
    result = backupmod.backup(ctx.db_path, ctx.media, args.to)
    mb = result.bytes / 1e6
    print(f"Backed up the library and {result.files} media files ({mb:.1f} MB) to {result.path}.", file=ctx.out)
    if result.missing:
        print(f"Warning: {len(result.missing)} file(s) the library names were already missing and are not in the "
              f"backup: {backupmod.describe(result.missing)}. Run `python -m content check`.", file=ctx.err)
    return 0


def run_restore(args, ctx) -> int:
    result = restoremod.restore(args.file, ctx.db_path, ctx.media, force=args.force)
    print(f"Restored {result.residents} residents, {result.songs} songs and {result.plays} plays "
          f"({result.files} media files) into {ctx.data_dir}.", file=ctx.out)
    if result.missing:
        print(f"Warning: {len(result.missing)} file(s) were already missing when the backup was made: "
              f"{backupmod.describe(result.missing)}. `python -m content check` lists the songs concerned.",
              file=ctx.err)
    if result.replaced:
        print(f"The previous library was replaced; {result.removed_files} of its files were no longer needed "
              "and were removed.", file=ctx.out)
    return 0
