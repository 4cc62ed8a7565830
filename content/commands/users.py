"""`users add|list|logout`: accounts for the admin, for the first staff member in particular,
and logging an account out everywhere when a phone is lost."""
from __future__ import annotations

import argparse
import getpass
import sys

from content import accounts, library
from content.db import LibraryError


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("users", help="add or list admin accounts")
    usub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = usub.add_parser("add", parents=[common], help="add a staff or family account")
    add.add_argument("--role", choices=accounts.ROLES, required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--name", default="", help="the name shown in the admin")
    add.add_argument("--resident", action="append", default=[], metavar="NAME",
                     help="a resident this family member may see (repeat for more)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(func=add_user)
    ls = usub.add_parser("list", parents=[common], help="list accounts")
    ls.set_defaults(func=list_users)
    out = usub.add_parser("logout", parents=[common], help="log an account out on every phone and computer")
    out.add_argument("--email", required=True)
    out.set_defaults(func=logout_user)


def _read_password(args, ctx) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    again = getpass.getpass("Same password again: ")
    if first != again:
        raise LibraryError("The two passwords were not the same.")
    return first


def add_user(args, ctx) -> int:
    if args.role == "staff" and args.resident:
        raise LibraryError("Staff see every resident; --resident is only for family accounts.")
    resident_ids = [library.resident_by_name(ctx.db, name).id for name in args.resident]
    password = _read_password(args, ctx)
    user = accounts.create_user(ctx.db, args.email, password, args.role, display_name=args.name,
                                resident_ids=resident_ids)
    sees = "every resident" if user.is_staff else (", ".join(args.resident) or "no residents yet")
    print(f"Added {user.role} account {user.email} (sees {sees}).", file=ctx.out)
    return 0


def list_users(args, ctx) -> int:
    users = accounts.list_users(ctx.db)
    if not users:
        print("No accounts yet. Add the first with: python -m content users add --role staff --email E", file=ctx.out)
    for u in users:
        if u.is_staff:
            sees = "every resident"
        else:
            sees = ", ".join(r.name for r in accounts.residents_for(ctx.db, u)) or "no residents"
        off = " (disabled)" if u.disabled else ""
        print(f"{u.email}: {u.role}{off}, sees {sees}", file=ctx.out)
    return 0


def logout_user(args, ctx) -> int:
    user = accounts.find_user(ctx.db, args.email)
    if user is None:
        raise LibraryError(f"There is no account for {args.email.strip()}.")
    accounts.end_sessions(ctx.db, user.id)
    print(f"{user.email} is logged out everywhere; their password still works.", file=ctx.out)
    return 0
