"""`join`, `sync status`: a music box following a hub. `homes`: care homes on a hub, and the
staff accounts limited to them."""
from __future__ import annotations

import argparse
import json

from content import accounts
from content.db import LibraryError
from content.hub import homes
from content.sync import apply, config, outbox
from content.sync.client import HubClient, HubUnreachable


def register(sub, common: argparse.ArgumentParser) -> None:
    join = sub.add_parser("join", parents=[common], help="make this music box follow a hub (with a pairing code)")
    join.add_argument("hub", metavar="HUB", help="the hub's address, e.g. https://music.example.org")
    join.add_argument("code", metavar="CODE", help="the pairing code the hub showed")
    join.add_argument("--ca-file", default=None, metavar="PEM",
                      help="trust this certificate authority (a hub on a LAN with Caddy's `tls internal`)")
    join.set_defaults(func=join_hub)

    sync = sub.add_parser("sync", help="the box's link with its hub")
    ssub = sync.add_subparsers(dest="action", metavar="ACTION", required=True)
    st = ssub.add_parser("status", parents=[common], help="which hub, which version, what waits to be sent")
    st.set_defaults(func=sync_status)

    hp = sub.add_parser("homes", help="care homes on a hub, and which staff belong to them")
    hsub = hp.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = hsub.add_parser("add", parents=[common], help="add a care home")
    add.add_argument("name", metavar="NAME")
    add.set_defaults(func=add_home)
    ls = hsub.add_parser("list", parents=[common], help="list care homes and their staff")
    ls.set_defaults(func=list_homes)
    staff = hsub.add_parser("staff", parents=[common],
                            help="limit a staff account to a care home (repeat for more homes)")
    staff.add_argument("--email", required=True)
    staff.add_argument("--home", required=True, metavar="NAME")
    staff.set_defaults(func=staff_home)


def _home_named(db, name: str) -> homes.Home:
    found = [h for h in homes.all_homes(db) if h.name.casefold() == " ".join(name.split()).casefold()]
    if not found:
        raise LibraryError(f"There is no care home called {name}.")
    return found[0]


def add_home(args, ctx) -> int:
    home = homes.add_home(ctx.db, args.name)
    print(f"Added the care home {home.name}.", file=ctx.out)
    return 0


def list_homes(args, ctx) -> int:
    for home in homes.all_homes(ctx.db):
        staff = [r[0] for r in ctx.db.execute(
            "SELECT u.email FROM users u JOIN staff_homes sh ON sh.user_id = u.id WHERE sh.home_id = ? "
            "ORDER BY u.email", [home.id])]
        print(f"{home.name}: {', '.join(staff) or 'no staff of its own (group staff see it)'}", file=ctx.out)
    return 0


def staff_home(args, ctx) -> int:
    user = accounts.find_user(ctx.db, args.email)
    if user is None:
        raise LibraryError(f"There is no account for {args.email.strip()}.")
    home = _home_named(ctx.db, args.home)
    homes.add_staff_to_home(ctx.db, user.id, home.id)
    names = [h.name for h in homes.homes_for(ctx.db, user.id)]
    print(f"{user.email} now sees only {', '.join(names)}.", file=ctx.out)
    return 0


def join_hub(args, ctx) -> int:
    data = ctx.data_dir
    link = config.load(data)
    if link is None and ctx.db.execute("SELECT 1 FROM residents LIMIT 1").fetchone():
        raise LibraryError("This music box has residents and songs of its own; a hub would replace them. "
                           "Make a backup, start from an empty library, and add them on the hub instead.")
    try:
        client = HubClient(args.hub, ca_file=args.ca_file, timeout=30)
    except ValueError as exc:
        raise LibraryError(str(exc)) from None
    try:
        answer = client.call("POST", "/api/box/join", {"code": args.code})
    except HubUnreachable as exc:
        raise LibraryError(f"{exc} Check the address and this box's internet connection.") from None
    finally:
        client.close()
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or answer.status != 200 or not body.get("ok"):
        words = body.get("error") if isinstance(body, dict) else None
        raise LibraryError(words or f"{args.hub} did not answer like an Evergreen hub (answer {answer.status}).")
    config.save(data, config.BoxLink(hub=client.hub, box_id=int(body["box_id"]), credential=body["credential"],
                                     ca_file=args.ca_file))
    outbox.set_state(ctx.db, "etag", None)
    print(f"This music box is now “{body.get('name')}” at {body.get('home')}, following {client.hub}. "
          "Its residents' songs arrive through the sync agent (evergreen-sync); its own admin is off.",
          file=ctx.out)
    return 0


def sync_status(args, ctx) -> int:
    link = config.load(ctx.data_dir)
    if link is None:
        print("This music box does not follow a hub.", file=ctx.out)
        return 1
    state = apply.applied(ctx.db)
    print(json.dumps({"hub": link.hub, "box": link.box_id, "version": state.get("version"),
                      "songs_still_downloading": state.get("waiting"), "outbox": outbox.count(ctx.db)}),
          file=ctx.out)
    return 0
