"""`report`: a resident's care-plan report as a PDF and CSV, or its figures on the screen."""
from __future__ import annotations

import argparse
from pathlib import Path

from content import library
from content.care import document, report, table
from content.db import LibraryError
from content.durable import write_atomic


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", parents=[common], help="a resident's care-plan report (PDF, CSV or on screen)")
    p.add_argument("--resident", required=True, metavar="NAME")
    p.add_argument("--from", dest="start", metavar="DATE", help="first day, like 2026-05-01 (default: 30 days ago)")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day (default: today)")
    p.add_argument("--pdf", type=Path, metavar="FILE", help="write the printable report here")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write one row per day here")
    p.add_argument("--reactions-csv", type=Path, metavar="FILE", help="write one row per reaction here")
    p.set_defaults(func=make_report)


def make_report(args, ctx) -> int:
    resident = library.resident_by_name(ctx.db, args.resident)
    start = report.parse_day(args.start, "--from date") if args.start else None
    end = report.parse_day(args.end, "--to date") if args.end else None
    start, end = report.period(start, end)
    r = report.build(ctx.db, resident.id, start, end, staff_view=True)
    for line in report.summary_lines(r):
        print(line, file=ctx.out)
    outputs = [(args.pdf, lambda: document.pdf(r)), (args.csv, lambda: table.days_csv(r)),
               (args.reactions_csv, lambda: table.reactions_csv(r))]
    for path, make in outputs:
        if path is None:
            continue
        if not path.parent.is_dir():
            raise LibraryError(f"There is no folder {path.parent} to write {path.name} in.")
        write_atomic(path, make())
        print(f"Wrote {path}.", file=ctx.out)
    return 0
