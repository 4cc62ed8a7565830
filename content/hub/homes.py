"""Care homes on a hub, and which of them a staff account looks after.

Staff who belong to no home see every home (the care group's own staff, and every staff
account on a standalone box, which has no homes); staff who belong to one or more homes see
only the residents and boxes of those homes.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from content import library
from content.db import LibraryError, write


@dataclass(frozen=True)
class Home:
    id: int
    name: str


def add_home(db: sqlite_utils.Database, name: str, *, user_id: int | None = None) -> Home:
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("A care home needs a name.")
    with write(db):
        if db.execute("SELECT 1 FROM homes WHERE name = ? COLLATE NOCASE", [name]).fetchone():
            raise LibraryError(f"There is already a care home called {name}.")
        hid = db.execute("INSERT INTO homes (name) VALUES (?)", [name]).lastrowid
        library.audit(db, "home.add", user_id=user_id, detail={"home": hid, "name": name})
    return Home(hid, name)


def home_ids_of(db: sqlite_utils.Database, user_id: int) -> set[int] | None:
    """The homes a staff account is limited to, or None when it sees every home."""
    ids = {r[0] for r in db.execute("SELECT home_id FROM staff_homes WHERE user_id = ?", [user_id])}
    return ids or None


def all_homes(db: sqlite_utils.Database) -> list[Home]:
    return [Home(i, n) for i, n in db.execute("SELECT id, name FROM homes ORDER BY name COLLATE NOCASE")]


def homes_for(db: sqlite_utils.Database, user_id: int) -> list[Home]:
    scope = home_ids_of(db, user_id)
    rows = db.execute("SELECT id, name FROM homes ORDER BY name COLLATE NOCASE").fetchall()
    return [Home(i, n) for i, n in rows if scope is None or i in scope]


def may_manage_home(db: sqlite_utils.Database, user_id: int, home_id: int) -> bool:
    scope = home_ids_of(db, user_id)
    exists = db.execute("SELECT 1 FROM homes WHERE id = ?", [home_id]).fetchone()
    return bool(exists) and (scope is None or home_id in scope)


def home_name(db: sqlite_utils.Database, home_id: int) -> str:
    row = db.execute("SELECT name FROM homes WHERE id = ?", [home_id]).fetchone()
    return row[0] if row else ""


def residents_of_home(db: sqlite_utils.Database, home_id: int) -> list[library.Resident]:
    return [library.Resident.from_row(r) for r in db.query(
        "SELECT * FROM residents WHERE home_id = ? ORDER BY name COLLATE NOCASE", [home_id])]


def add_staff_to_home(db: sqlite_utils.Database, user_id: int, home_id: int, *, by: int | None = None) -> None:
    with write(db):
        role = db.execute("SELECT role FROM users WHERE id = ?", [user_id]).fetchone()
        if role is None or role[0] != "staff":
            raise LibraryError("Only staff accounts belong to a care home.")
        db.execute("INSERT OR IGNORE INTO staff_homes (user_id, home_id) VALUES (?, ?)", [user_id, home_id])
        library.audit(db, "home.staff", user_id=by, detail={"home": home_id, "user": user_id})


def set_resident_home(db: sqlite_utils.Database, resident_id: int, home_id: int | None, *,
                      user_id: int | None = None) -> None:
    with write(db):
        db.execute("UPDATE residents SET home_id = ? WHERE id = ?", [home_id, resident_id])
        library.audit(db, "resident.home", user_id=user_id, resident_id=resident_id, detail={"home": home_id})


def staff_may_see_resident(db: sqlite_utils.Database, user_id: int, resident_id: int) -> bool:
    row = db.execute("SELECT home_id FROM residents WHERE id = ?", [resident_id]).fetchone()
    if row is None:
        return False
    scope = home_ids_of(db, user_id)
    return scope is None or row[0] in scope


def staff_resident_filter(db: sqlite_utils.Database, user_id: int) -> tuple[str, list]:
    """SQL condition on `r.home_id` (and its parameters) for the residents this staff
    account may see; an always-true condition when it sees every home."""
    scope = home_ids_of(db, user_id)
    if scope is None:
        return "1", []
    return f"r.home_id IN ({','.join('?' * len(scope))})", sorted(scope)


def staff_account_filter(db: sqlite_utils.Database, user_id: int) -> tuple[str, list]:
    """SQL condition on `u` (users) for the accounts this staff account may see and manage;
    an always-true condition when it sees every home (the group's staff, a standalone box).

    Staff limited to some homes manage only accounts that reach nothing beyond those homes:
    staff limited to homes all among theirs (never the group's staff), and family whose
    residents all live in those homes. An account that also reaches another home (staff of
    two homes, a family with relatives in two homes) is left to someone who sees both: a
    password link for it would open the other home's residents, and turning it off would
    shut out a family another home looks after. A family linked to no one yet, or to a
    resident in no home, is likewise left to the group's staff."""
    scope = home_ids_of(db, user_id)
    if scope is None:
        return "1", []
    marks = ",".join("?" * len(scope))
    ids = sorted(scope)
    condition = (
        "((u.role = 'staff'"
        " AND EXISTS (SELECT 1 FROM staff_homes sh WHERE sh.user_id = u.id)"
        f" AND NOT EXISTS (SELECT 1 FROM staff_homes sh WHERE sh.user_id = u.id AND sh.home_id NOT IN ({marks})))"
        " OR (u.role = 'family'"
        " AND EXISTS (SELECT 1 FROM user_residents ur WHERE ur.user_id = u.id)"
        " AND NOT EXISTS (SELECT 1 FROM user_residents ur JOIN residents r ON r.id = ur.resident_id"
        f" WHERE ur.user_id = u.id AND (r.home_id IS NULL OR r.home_id NOT IN ({marks})))))")
    return condition, ids + ids
