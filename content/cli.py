"""`python -m content`: the library's command line, for staff and engineers.

Commands live in `content/commands/`, one module per area; each defines
`register(sub, common)` and adds its subcommands with `parents=[common]`, so that every
command takes --db and --media. A handler is `func(args, ctx) -> int` (the exit status).
Errors a person can act on are raised as LibraryError and printed as one sentence.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TextIO

import sqlite_utils

from content import commands, paths
from content.db import LibraryError, connect


@dataclass
class Context:
    """What a command works on; the database is opened only when a command asks."""

    db_path: Path
    media: Path
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = connect(self.db_path)
        return self._db

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help=f"the library database (default: {paths.db_path()})")
    common.add_argument("--media", type=Path, default=None, metavar="DIR",
                        help=f"the media folder (default: {paths.media_dir()})")
    parser = argparse.ArgumentParser(prog="python -m content", description="Evergreen's song library.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    data = paths.data_dir()
    db_path = (args.db or paths.db_path(data)).absolute()
    media = (args.media or (db_path.parent / paths.MEDIA_NAME if args.db else paths.media_dir(data))).absolute()
    ctx = Context(db_path=db_path, media=media)
    try:
        return int(args.func(args, ctx) or 0)
    except LibraryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    finally:
        ctx.close()
