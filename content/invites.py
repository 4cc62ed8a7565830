"""Handing an invitation over: the open invites of a resident, the same link shown again to
staff, and cancelling one. (Making, opening and accepting an invite are in
content.accounts, with the accounts they create.)

An invite's token is an HMAC of a salt kept with the invite under the admin's secret key:
staff can be shown a link again instead of making another live one, and a copy of the
database alone still lets no one in (only the token's hash is kept, as before)."""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
from dataclasses import dataclass

import sqlite_utils

from content import library
from content.db import write
from content.text import clean_line
from content.timestamps import utc_iso, utc_now

LABEL_MAX = 80


def link_token(secret: str, salt: str) -> str:
    digest = hmac.new(secret.encode(), b"invite:" + salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def clean_label(label: str) -> str:
    """Who an invite is for, as staff typed it: one line, not too long."""
    return clean_line(label, "name of who it is for", LABEL_MAX)


@dataclass(frozen=True)
class OpenInvite:
    id: int
    resident_id: int
    label: str
    created_at: str
    expires_at: str
    made_by: str
    salt: str | None

    @property
    def can_show_again(self) -> bool:
        return bool(self.salt)


def open_invites(db: sqlite_utils.Database, resident_id: int, *, now: _dt.datetime | None = None) -> list[OpenInvite]:
    """Invites for this resident that still work: not used, not cancelled, not expired; newest first."""
    rows = db.query(
        "SELECT i.id, i.resident_id, i.label, i.created_at, i.expires_at, i.salt, "
        "COALESCE(NULLIF(u.display_name, ''), u.email, '') AS made_by "
        "FROM invites i LEFT JOIN users u ON u.id = i.created_by "
        "WHERE i.resident_id = ? AND i.used_at IS NULL AND i.cancelled_at IS NULL AND i.expires_at >= ? "
        "ORDER BY i.created_at DESC, i.id DESC", [resident_id, utc_iso(now or utc_now())])
    return [OpenInvite(**r) for r in rows]


def open_invite_of(db: sqlite_utils.Database, resident_id: int, invite_id: int,
                   *, now: _dt.datetime | None = None) -> OpenInvite | None:
    return next((i for i in open_invites(db, resident_id, now=now) if i.id == invite_id), None)


def cancel(db: sqlite_utils.Database, resident_id: int, invite_id: int, *, by: int | None = None,
           now: _dt.datetime | None = None) -> bool:
    """The link stops working at once. False when there was no such open invite."""
    with write(db):
        changed = db.execute(
            "UPDATE invites SET cancelled_at = ?, cancelled_by = ? "
            "WHERE id = ? AND resident_id = ? AND used_at IS NULL AND cancelled_at IS NULL",
            [utc_iso(now or utc_now()), by, invite_id, resident_id]).rowcount
        if changed:
            library.audit(db, "invite.cancel", user_id=by, resident_id=resident_id, detail={"invite": invite_id})
    return bool(changed)
