"""`users add|list|logout|disable|enable|remove|reset-link`: accounts for the admin, for the
first staff member in particular; logging an account out everywhere when a phone is lost;
turning an account off or removing it; and a link to choose a new password."""
from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import dataclass
from typing import Callable

import sqlite_utils

from content import account_links, accounts, library, mail, site
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
    for change in ACCOUNT_CHANGES:
        one = usub.add_parser(change.name, parents=[common], help=change.help)
        one.add_argument("--email", required=True)
        one.set_defaults(func=change.run)
    reset = usub.add_parser("reset-link", parents=[common],
                            help="make a one-time link to choose a new password (shown here, with a QR code)")
    reset.add_argument("--email", required=True)
    reset.add_argument("--send", action="store_true", help="also email the link (needs [smtp] in the admin's settings)")
    reset.add_argument("--no-qr", action="store_true", help="print only the link")
    reset.set_defaults(func=reset_link)


@dataclass(frozen=True)
class AccountChange:
    """A command that changes one account, named by --email, and says what it did."""

    name: str
    help: str
    change: Callable[[sqlite_utils.Database, int], object]
    done: str                      # what is printed; {email} is the account's address

    def run(self, args, ctx) -> int:
        user = accounts.user_by_email(ctx.db, args.email)
        self.change(ctx.db, user.id)
        print(self.done.format(email=user.email), file=ctx.out)
        return 0


ACCOUNT_CHANGES = (
    AccountChange("logout", "log an account out on every phone and computer", accounts.end_sessions,
                  "{email} is logged out everywhere; their password still works."),
    AccountChange("disable", "turn an account off: it is logged out and cannot log in",
                  lambda db, user_id: accounts.set_disabled(db, user_id, True),
                  "{email} is turned off: logged out everywhere, and it cannot log in until turned back on."),
    AccountChange("enable", "turn a disabled account back on",
                  lambda db, user_id: accounts.set_disabled(db, user_id, False),
                  "{email} is turned back on and can log in again."),
    AccountChange("remove", "delete an account (what it wrote stays)", accounts.remove_user,
                  "{email} is removed. What it wrote (notes, reactions) stays."),
)


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


def reset_link(args, ctx) -> int:
    settings = site.load()
    user = accounts.user_by_email(ctx.db, args.email)
    settings.link("/")   # a plain error before a token is made, when no link could be built
    token = account_links.create_reset(ctx.db, user.id)
    link = settings.link(f"/reset/{token}")
    hours = account_links.RESET_HOURS
    print(f"A link for {user.email} to choose a new password (it works once, for {hours} hours):", file=ctx.out)
    print(link, file=ctx.out)
    if not args.no_qr:
        import segno
        segno.make(link, error="m").terminal(out=ctx.out, compact=True)
    if args.send:
        mail.send(settings.smtp, user.email, "Choose a new password for Evergreen",
                  f"Open this link to choose a new password for Evergreen (it works once, for {hours} hours):\n\n"
                  f"{link}\n\nIf you did not ask for this, you can ignore this email.")
        print(f"Emailed to {user.email}.", file=ctx.out)
    return 0
