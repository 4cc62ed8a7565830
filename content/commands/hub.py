"""`join`, `sync status`: a music box following a hub."""
from __future__ import annotations

import argparse
import json

from content.db import LibraryError
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
