"""One-time links into an account: an invite (a new family account, or one more resident
for an existing one) and a password link (staff made it, or the login page emailed it).
Only a token's hash is stored, so a copy of the database does not let anyone in."""
from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import generate_password_hash

from content import invites, library
from content.accounts import User, check_new_password, create_user, find_user, get_user, link_resident
from content.db import LibraryError, write
from content.timestamps import utc_iso as _iso, utc_now

INVITE_DAYS = 7
RESET_HOURS = 48


@dataclass(frozen=True)
class Invite:
    id: int
    resident_id: int
    resident_name: str
    expires_at: str


# --- invites -----------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(db: sqlite_utils.Database, resident_id: int, *, created_by: int | None = None,
                  now: _dt.datetime | None = None, secret: str | None = None, label: str = "") -> str:
    """A one-time link token for one resident, valid for a week. Only its hash is stored.

    With `secret` (the admin's key), the token is made from it and a salt kept with the
    invite, so staff can be shown the same link again (content.invites.link_token) while the
    database alone still holds nothing that opens it. `label` says who it is for."""
    library.get_resident(db, resident_id)
    now = now or utc_now()
    salt = secrets.token_urlsafe(16) if secret else None
    token = invites.link_token(secret, salt) if secret else secrets.token_urlsafe(24)
    with write(db):
        db["invites"].insert({
            "token_hash": _token_hash(token), "resident_id": resident_id, "created_by": created_by,
            "created_at": _iso(now), "expires_at": _iso(now + _dt.timedelta(days=INVITE_DAYS)),
            "salt": salt, "label": invites.clean_label(label),
        })
        library.audit(db, "invite.add", user_id=created_by, resident_id=resident_id)
    return token


def open_invite(db: sqlite_utils.Database, token: str, *, now: _dt.datetime | None = None) -> Invite:
    now = now or utc_now()
    rows = list(db.query(
        "SELECT i.*, r.name AS resident_name FROM invites i JOIN residents r ON r.id = i.resident_id "
        "WHERE i.token_hash = ?", [_token_hash(token or "")]))
    if not rows:
        raise LibraryError("This invitation link is not right. Please ask the care home for a new one.")
    row = rows[0]
    if row["used_at"]:
        raise LibraryError("This invitation link has already been used. Please log in, "
                           "or ask the care home for a new link.")
    if row["cancelled_at"]:
        raise LibraryError("The care home has cancelled this invitation link. Please ask them for a new one.")
    if row["expires_at"] < _iso(now):
        raise LibraryError("This invitation link has expired. Please ask the care home for a new one.")
    return Invite(id=row["id"], resident_id=row["resident_id"], resident_name=row["resident_name"],
                  expires_at=row["expires_at"])


def accept_invite(
    db: sqlite_utils.Database,
    token: str,
    *,
    user: User | None = None,
    email: str = "",
    password: str = "",
    display_name: str = "",
    now: _dt.datetime | None = None,
) -> User:
    """Use an invite: link the signed-in family member, or create their account."""
    now = now or utc_now()
    with write(db):
        invite = open_invite(db, token, now=now)
        if user is None:
            if find_user(db, email) is not None:
                raise LibraryError("There is already an account for this email. Please log in first "
                                   "(if you forgot the password, see “Forgot your password?”), "
                                   "then open the invitation link again.")
            user = create_user(db, email, password, "family", display_name=display_name)
        elif user.is_staff:
            raise LibraryError("Staff accounts already see every resident; this link is for a family member.")
        link_resident(db, user.id, invite.resident_id)
        db.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?", [_iso(now), user.id, invite.id])
        library.audit(db, "invite.use", user_id=user.id, resident_id=invite.resident_id)
    return user


# --- password links -------------------------------------------------------------------

@dataclass(frozen=True)
class PasswordReset:
    id: int
    user_id: int
    email: str
    expires_at: str


def create_reset(db: sqlite_utils.Database, user_id: int, *, created_by: int | None = None,
                 now: _dt.datetime | None = None) -> str:
    """A one-time link token to choose a new password, valid for RESET_HOURS. Only its hash
    is stored, and it replaces any earlier unused link for the same account."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    token = secrets.token_urlsafe(24)
    with write(db):
        user = get_user(db, user_id)
        if user is None:
            raise LibraryError("There is no such account.")
        if user.disabled:
            raise LibraryError(f"{user.email} is turned off; turn it back on before making a reset link.")
        db.execute("DELETE FROM password_resets WHERE user_id = ? AND used_at IS NULL", [user_id])
        db["password_resets"].insert({
            "token_hash": _token_hash(token), "user_id": user_id, "created_by": created_by,
            "created_at": _iso(now), "expires_at": _iso(now + _dt.timedelta(hours=RESET_HOURS)),
        })
        library.audit(db, "user.reset_link", user_id=created_by, detail={"user": user_id})
    return token


def open_reset(db: sqlite_utils.Database, token: str, *, now: _dt.datetime | None = None) -> PasswordReset:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    rows = list(db.query(
        "SELECT p.*, u.email, u.disabled FROM password_resets p JOIN users u ON u.id = p.user_id "
        "WHERE p.token_hash = ?", [_token_hash(token or "")]))
    if not rows:
        raise LibraryError("This password link is not right, or a newer one was made. Please ask the care home "
                           "for a new one.")
    row = rows[0]
    if row["used_at"]:
        raise LibraryError("This password link has already been used. Please log in, or ask the care home "
                           "for a new link.")
    if row["expires_at"] < _iso(now) or row["disabled"]:
        raise LibraryError("This password link has expired. Please ask the care home for a new one.")
    return PasswordReset(id=row["id"], user_id=row["user_id"], email=row["email"], expires_at=row["expires_at"])


def use_reset(db: sqlite_utils.Database, token: str, password: str, *, now: _dt.datetime | None = None) -> User:
    """Set a new password from a reset link, once. Every session of the account ends (the
    password is part of each session's stamp) and its failed tries are forgotten."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    reset = open_reset(db, token, now=now)
    check_new_password(password, email=reset.email)
    pw_hash = generate_password_hash(password)
    with write(db):
        reset = open_reset(db, token, now=now)   # again, inside the write: used once only
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [pw_hash, reset.user_id])
        db.execute("UPDATE password_resets SET used_at = ? WHERE id = ?", [_iso(now), reset.id])
        db.execute("DELETE FROM login_failures WHERE email = ?", [reset.email])
        library.audit(db, "user.password_reset", user_id=reset.user_id, detail={"user": reset.user_id})
    return get_user(db, reset.user_id)


EMAILED_RESET_EVERY_S = 15 * 60   # the login page's "email me a link": once per account per this


def reset_for_email(db: sqlite_utils.Database, email: str, *, now: _dt.datetime | None = None) -> tuple[User, str] | None:
    """A password link someone asked for from the login page, to be emailed to the account's
    own address: None when there is no such account that may log in, or when one was asked
    for in the last EMAILED_RESET_EVERY_S (so the form cannot fill someone's inbox). The page
    answers the same either way, so it does not tell who has an account."""
    now = now or utc_now()
    user = find_user(db, email)
    if user is None or user.disabled:
        return None
    latest = db.execute("SELECT MAX(created_at) FROM password_resets WHERE user_id = ?", [user.id]).fetchone()[0]
    if latest and latest > _iso(now - _dt.timedelta(seconds=EMAILED_RESET_EVERY_S)):
        return None
    return user, create_reset(db, user.id, now=now)
