"""People who use the admin: staff and family accounts and their life (logging in,
disable, enable, remove), first-run setup, and who may see which resident. The one-time
links into an account (invites, password links) are content.account_links.

Families see only the residents they are linked to; staff see everyone, or on a hub only
the residents of the care homes they belong to (content.hub.homes). Passwords are hashed
with werkzeug (scrypt); invite and reset tokens and the setup code are stored only as
hashes, so a copy of the database does not let anyone in.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from content import library
from content.db import LibraryError, write
from content.hub import homes
from content.text import NAME_MAX, clean_line

ROLES = ("staff", "family")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
COMMON_PASSWORDS = 30_000      # refused: the most common ones, which guessers try first
# Failed logins (and wrong current passwords): a few free tries, then each further try
# waits longer (30 s, 60 s, ...), up to 15 minutes. Counted per email and address together
# (so a stranger guessing a staff email slows only the stranger, never the staff member's
# own phone), and per address with a higher allowance, because a care home's visitors
# often share one address.
FREE_TRIES = 5
FREE_TRIES_PER_ADDRESS = 20
FAILURE_WINDOW_S = 15 * 60
FIRST_WAIT_S = 30
LONGEST_WAIT_S = 15 * 60
SETUP_CODE_KEY = "setup_code_hash"
SETUP_EMAIL = "(first-run setup)"


class LoginRefused(LibraryError):
    """A login that did not succeed; the message is safe to show (never says which part was wrong)."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    role: str
    password_hash: str
    disabled: bool = False
    session_epoch: int = 0

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def name(self) -> str:
        return self.display_name or self.email

    @property
    def session_stamp(self) -> str:
        """Changes when the password changes or the account logs out, so every session of
        this account ends then (the session cookie itself cannot be taken back)."""
        return hashlib.sha256(f"{self.session_epoch}:{self.password_hash}".encode()).hexdigest()[:16]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "User":
        return cls(id=row["id"], email=row["email"], display_name=row["display_name"], role=row["role"],
                   password_hash=row["password_hash"], disabled=bool(row["disabled"]),
                   session_epoch=row.get("session_epoch") or 0)


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() or not c.isprintable() for c in email):
        raise LibraryError("Please enter an email address, like name@example.com.")
    return email


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The most common passwords, most common first, from zxcvbn's list (drawn from
    leaked password sets); loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS])


def check_new_password(password: str, *, email: str = "") -> None:
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise LibraryError(f"The password needs at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise LibraryError("That password is too long.")
    folded = password.casefold()
    email = (email or "").strip().casefold()
    if folded in _common_passwords() or len(set(folded)) < 3 or folded in (email, email.partition("@")[0]):
        raise LibraryError("That password is one that people often use (or is built from your email), so it "
                           "is easy to guess. Please choose another: a few words you will remember work well.")


def get_user(db: sqlite_utils.Database, user_id: int) -> User | None:
    rows = list(db.query("SELECT * FROM users WHERE id = ?", [user_id]))
    return User.from_row(rows[0]) if rows else None


def find_user(db: sqlite_utils.Database, email: str) -> User | None:
    rows = list(db.query("SELECT * FROM users WHERE email = ? COLLATE NOCASE", [(email or "").strip()]))
    return User.from_row(rows[0]) if rows else None


def list_users(db: sqlite_utils.Database, *, seen_by: User | None = None) -> list[User]:
    """Every account, or only those the staff account `seen_by` may manage (on a hub, the
    accounts of its own homes: content.hub.homes.staff_account_filter)."""
    where, params = homes.staff_account_filter(db, seen_by.id) if seen_by is not None else ("1", [])
    return [User.from_row(r) for r in db.query(
        f"SELECT u.* FROM users u WHERE {where} ORDER BY u.role DESC, u.email", params)]


def managed_user(db: sqlite_utils.Database, staff: User, user_id: int) -> User | None:
    """The account `user_id` when `staff` may see and manage it, else None (as if it did not exist)."""
    if not staff.is_staff:
        return None
    where, params = homes.staff_account_filter(db, staff.id)
    rows = list(db.query(f"SELECT u.* FROM users u WHERE u.id = ? AND {where}", [user_id, *params]))
    return User.from_row(rows[0]) if rows else None


def create_user(
    db: sqlite_utils.Database,
    email: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    resident_ids: tuple[int, ...] | list[int] = (),
    created_by: int | None = None,
) -> User:
    if role not in ROLES:
        raise LibraryError("An account is either staff or family.")
    email = _clean_email(email)
    check_new_password(password, email=email)
    pw_hash = generate_password_hash(password)
    with write(db):
        if find_user(db, email) is not None:
            raise LibraryError(f"There is already an account for {email}.")
        uid = db["users"].insert({"email": email, "display_name": clean_line(display_name, "name", NAME_MAX),
                                  "role": role, "password_hash": pw_hash}).last_pk
        for rid in resident_ids:
            link_resident(db, uid, rid)
        library.audit(db, "user.add", user_id=created_by, detail={"user": uid, "email": email, "role": role})
    return get_user(db, uid)


def link_resident(db: sqlite_utils.Database, user_id: int, resident_id: int) -> None:
    library.get_resident(db, resident_id)  # a plain error when there is no such resident
    with write(db):
        db.execute("INSERT OR IGNORE INTO user_residents (user_id, resident_id) VALUES (?, ?)", [user_id, resident_id])


def unlink_resident(db: sqlite_utils.Database, user_id: int, resident_id: int, *, by: int | None = None) -> bool:
    """Stop a family member seeing a resident. Returns False when they could not anyway."""
    with write(db):
        cur = db.execute("DELETE FROM user_residents WHERE user_id = ? AND resident_id = ?", [user_id, resident_id])
        if cur.rowcount:
            library.audit(db, "user.unlink", user_id=by, resident_id=resident_id, detail={"user": user_id})
    return bool(cur.rowcount)


def change_password(db: sqlite_utils.Database, user: User, old: str, new: str, *, remote: str = "",
                    now: float | None = None) -> User:
    """Throttled like logging in: a wrong current password counts as a failed login for this
    account from this address."""
    check_new_password(new, email=user.email)
    now = time.time() if now is None else now
    try_id = _begin_try(db, user.email, remote, now)
    if not check_password_hash(user.password_hash, old or ""):
        raise LibraryError("Your current password was not right.")
    _set_password(db, user.id, new, action="user.password", by=user.id, try_id=try_id)
    return get_user(db, user.id)


def _set_password(db: sqlite_utils.Database, user_id: int, password: str, *, action: str, by: int | None,
                  try_id: int | None = None) -> None:
    pw_hash = generate_password_hash(password)
    with write(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [pw_hash, user_id])
        if try_id is not None:
            db.execute("DELETE FROM login_failures WHERE id = ?", [try_id])
        library.audit(db, action, user_id=by, detail={"user": user_id})


def end_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    """Log this account out everywhere: every session cookie issued so far stops working."""
    with write(db):
        db.execute("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?", [user_id])
        library.audit(db, "user.logout", user_id=user_id)


# --- logging in, slowed after repeated failures ---------------------------------------

def login_wait(db: sqlite_utils.Database, email: str, remote: str = "", now: float | None = None) -> int:
    """Seconds this email from this address (or this address at all) must still wait
    before another try; 0 if none."""
    now = time.time() if now is None else now
    since = now - FAILURE_WINDOW_S
    email = (email or "").strip()
    waits = []
    for where, params, free in (("email = ? AND remote = ?", [email, remote], FREE_TRIES),
                                ("remote = ?", [remote], FREE_TRIES_PER_ADDRESS)):
        if not remote and where == "remote = ?":
            continue
        row = next(db.query(
            f"SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE {where} AND at > ?",
            [*params, since]))
        extra = row["n"] - free
        if extra >= 0:
            wait = min(FIRST_WAIT_S * 2 ** extra, LONGEST_WAIT_S)
            waits.append(wait - (now - row["last"]))
    return max(0, int(max(waits, default=0) + 0.999))


def _begin_try(db: sqlite_utils.Database, email: str, remote: str, now: float) -> int:
    """Check the wait and count this try as a failure, in one write transaction, before the
    slow hash: tries sent all at once then queue here and each sees the ones before it.
    The row is taken back when the try succeeds. Returns its id."""
    with write(db):
        wait = login_wait(db, email, remote, now)
        if wait:
            raise LoginRefused(_wait_message(wait))
        db.execute("DELETE FROM login_failures WHERE at < ?", [now - FAILURE_WINDOW_S])
        return db.execute("INSERT INTO login_failures (email, remote, at) VALUES (?, ?, ?)",
                          [(email or "").strip(), remote, now]).lastrowid


def _wait_message(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    if seconds < 60:
        return f"Too many tries. Please wait {seconds} seconds and try again."
    return f"Too many tries. Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again."


def authenticate(db: sqlite_utils.Database, email: str, password: str, *, remote: str = "",
                 now: float | None = None) -> User:
    now = time.time() if now is None else now
    try_id = _begin_try(db, email, remote, now)
    user = find_user(db, email)
    # Hash even when there is no such account, so the answer takes as long either way.
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if not ok or user is None or user.disabled:
        raise LoginRefused("That email and password did not match. Please try again.")
    with write(db):
        db.execute("DELETE FROM login_failures WHERE id = ? OR (email = ? AND remote = ?)",
                   [try_id, user.email, remote])
    return user


@functools.cache
def _dummy_hash() -> str:
    """What a login for an unknown email is checked against, made on the first such login
    rather than at import (scrypt is slow, and most commands never log anyone in)."""
    return generate_password_hash(secrets.token_hex(8))


# --- who may see what --------------------------------------------------------------------

def residents_for(db: sqlite_utils.Database, user: User) -> list[library.Resident]:
    if user.is_staff:
        where, params = homes.staff_resident_filter(db, user.id)
        return [library.Resident.from_row(r) for r in db.query(
            f"SELECT r.* FROM residents r WHERE {where} ORDER BY r.name COLLATE NOCASE", params)]
    return [library.Resident.from_row(r) for r in db.query(
        "SELECT r.* FROM residents r JOIN user_residents ur ON ur.resident_id = r.id "
        "WHERE ur.user_id = ? ORDER BY r.name COLLATE NOCASE", [user.id])]


def may_see(db: sqlite_utils.Database, user: User, resident_id: int) -> bool:
    if user.is_staff:
        return homes.staff_may_see_resident(db, user.id, resident_id)
    return bool(list(db.query("SELECT 1 FROM user_residents WHERE user_id = ? AND resident_id = ?",
                              [user.id, resident_id])))


def may_hear(db: sqlite_utils.Database, user: User, sha256: str) -> bool:
    """May this user fetch the stored file with this hash? Only if a resident they may see has it."""
    if user.is_staff:
        where, params = homes.staff_resident_filter(db, user.id)
        sql = ("SELECT 1 FROM songs s JOIN resident_songs rs ON rs.song_id = s.id JOIN residents r "
               f"ON r.id = rs.resident_id WHERE s.sha256 = ? AND {where} LIMIT 1")
        return bool(list(db.query(sql, [sha256, *params])))
    sql = ("SELECT 1 FROM songs s JOIN resident_songs rs ON rs.song_id = s.id "
           "JOIN user_residents ur ON ur.resident_id = rs.resident_id "
           "WHERE s.sha256 = ? AND ur.user_id = ? LIMIT 1")
    return bool(list(db.query(sql, [sha256, user.id])))


def family_of(db: sqlite_utils.Database, resident_id: int) -> list[User]:
    return [User.from_row(r) for r in db.query(
        "SELECT u.* FROM users u JOIN user_residents ur ON ur.user_id = u.id WHERE ur.resident_id = ? ORDER BY u.email",
        [resident_id])]


# --- first run ---------------------------------------------------------------------------

def has_staff(db: sqlite_utils.Database) -> bool:
    return bool(list(db.query("SELECT 1 FROM users WHERE role = 'staff' AND disabled = 0 LIMIT 1")))


def new_setup_code(db: sqlite_utils.Database) -> str:
    """A fresh one-time code for creating the first staff account; only its hash is kept."""
    code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
    library.set_setting(db, SETUP_CODE_KEY, generate_password_hash(code))
    return code


def use_setup_code(db: sqlite_utils.Database, code: str, email: str, password: str, *,
                   display_name: str = "", remote: str = "", now: float | None = None) -> User:
    now = time.time() if now is None else now
    if has_staff(db):
        raise LibraryError("Setup is already done. Please log in.")
    _clean_email(email)   # a typing slip in the new account is not a wrong code
    check_new_password(password, email=email)
    try_id = _begin_try(db, SETUP_EMAIL, remote, now)
    stored = library.get_setting(db, SETUP_CODE_KEY)
    given = "".join((code or "").split()).upper()
    if not stored or not check_password_hash(stored, given):
        raise LoginRefused("That setup code is not right. The code is in the admin's log, printed when it started.")
    with write(db):
        if has_staff(db) or library.get_setting(db, SETUP_CODE_KEY) != stored:
            raise LibraryError("Setup is already done. Please log in.")
        user = create_user(db, email, password, "staff", display_name=display_name)
        db.execute("DELETE FROM settings WHERE key = ?", [SETUP_CODE_KEY])
        db.execute("DELETE FROM login_failures WHERE id = ?", [try_id])
    return user


# --- the rest of an account's life: disable, enable, remove --------------------------------

def _active_staff(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM users WHERE role = 'staff' AND disabled = 0").fetchone()[0]


def user_by_email(db: sqlite_utils.Database, email: str) -> User:
    """Like find_user, but a missing account is an error a person can read."""
    user = find_user(db, email)
    if user is None:
        raise LibraryError(f"There is no account for {(email or '').strip()[:254]}.")
    return user


def set_disabled(db: sqlite_utils.Database, user_id: int, disabled: bool, *, by: int | None = None) -> User:
    """Turn an account off (every session ends, logging in is refused) or back on. The last
    staff account that can log in cannot be turned off: no one could then manage the box."""
    with write(db):
        user = get_user(db, user_id)
        if user is None:
            raise LibraryError("There is no such account.")
        if disabled and user.is_staff and not user.disabled and _active_staff(db) <= 1:
            raise LibraryError("This is the only staff account that can log in; add another staff account first.")
        db.execute("UPDATE users SET disabled = ?, session_epoch = session_epoch + ? WHERE id = ?",
                   [int(disabled), int(disabled), user_id])
        library.audit(db, "user.disable" if disabled else "user.enable", user_id=by, detail={"user": user_id})
    return get_user(db, user_id)


def remove_user(db: sqlite_utils.Database, user_id: int, *, by: int | None = None) -> None:
    """Delete an account. What it wrote (notes, reactions, the audit log) stays, no longer
    tied to it; its links to residents, invites it used and reset links go with it."""
    with write(db):
        user = get_user(db, user_id)
        if user is None:
            raise LibraryError("There is no such account.")
        if user.is_staff and not user.disabled and _active_staff(db) <= 1:
            raise LibraryError("This is the only staff account that can log in; add another staff account first.")
        db.execute("DELETE FROM login_failures WHERE email = ?", [user.email])
        db.execute("DELETE FROM users WHERE id = ?", [user_id])
        library.audit(db, "user.remove", user_id=by, detail={"user": user_id, "email": user.email})
