"""Music boxes on a hub: adding one, pairing it with a one-time code, the credential it then
holds, which residents it plays for, revoking it, commands for it, and when it was last seen.

A pairing code is short enough to read out over the phone (8 letters and digits with no
look-alikes), expires after 30 minutes, works once, and wrong guesses are slowed like
failed logins. The box's credential is a long random secret that only the box keeps; the
hub keeps its SHA-256 (the secret is random, so a slow hash adds nothing).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from content import accounts, library
from content.db import LibraryError, write
from content.timestamps import utc_iso, utc_now

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY346792"   # no 0/O, 1/I/L, 5/S, 8/B
CODE_LENGTH = 8
CODE_MINUTES = 30
PAIRING_KEY = "(box pairing)"                 # the "email" pairing tries are counted under
SEEN_EVERY_S = 30                             # last_seen is written at most this often
ONLINE_S = 90                                 # seen this recently (or waiting now): online


class PairingRefused(LibraryError):
    """A pairing code that did not work; the message says what to do."""


@dataclass(frozen=True)
class Box:
    id: int
    home_id: int
    name: str
    paired: bool
    revoked: bool
    last_seen_at: str | None
    now_playing: dict[str, Any] | None
    now_playing_at: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "Box":
        try:
            playing = json.loads(r["now_playing"]) if r["now_playing"] else None
        except ValueError:
            playing = None
        return cls(id=r["id"], home_id=r["home_id"], name=r["name"], paired=bool(r["credential_hash"]),
                   revoked=bool(r["revoked_at"]), last_seen_at=r["last_seen_at"], now_playing=playing,
                   now_playing_at=r["now_playing_at"])


_iso = utc_iso
_now = utc_now


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def add_box(db: sqlite_utils.Database, home_id: int, name: str, *, user_id: int | None = None) -> Box:
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("A music box needs a name, such as the room it stands in.")
    with write(db):
        if not db.execute("SELECT 1 FROM homes WHERE id = ?", [home_id]).fetchone():
            raise LibraryError("There is no such care home.")
        bid = db.execute("INSERT INTO boxes (home_id, name, created_by) VALUES (?, ?, ?)",
                         [home_id, name, user_id]).lastrowid
        library.audit(db, "box.add", user_id=user_id, detail={"box": bid, "name": name, "home": home_id})
    return get_box(db, bid)


def get_box(db: sqlite_utils.Database, box_id: int) -> Box:
    rows = list(db.query("SELECT * FROM boxes WHERE id = ?", [box_id]))
    if not rows:
        raise LibraryError("There is no such music box.")
    return Box.from_row(rows[0])


def list_boxes(db: sqlite_utils.Database, home_ids: set[int] | None = None) -> list[Box]:
    rows = db.query("SELECT * FROM boxes ORDER BY home_id, name COLLATE NOCASE")
    return [Box.from_row(r) for r in rows if home_ids is None or r["home_id"] in home_ids]


def new_pairing_code(db: sqlite_utils.Database, box_id: int, *, user_id: int | None = None,
                     now: _dt.datetime | None = None) -> str:
    """A fresh code for this box (any earlier unused code for it stops working)."""
    now = now or _now()
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with write(db):
        box = get_box(db, box_id)
        if box.revoked:
            raise LibraryError("This music box was revoked. Add it again as a new box to pair it.")
        db.execute("DELETE FROM pairing_codes WHERE box_id = ? AND used_at IS NULL", [box_id])
        db.execute("INSERT INTO pairing_codes (box_id, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
                   [box_id, _sha(raw), _iso(now), _iso(now + _dt.timedelta(minutes=CODE_MINUTES))])
        library.audit(db, "box.code", user_id=user_id, detail={"box": box_id})
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    return "".join(c for c in (code or "").upper() if c.isalnum())


def pair(db: sqlite_utils.Database, code: str, *, remote: str = "", now: float | None = None) -> tuple[int, str]:
    """Use a pairing code: returns (box id, the box's secret credential). The hub keeps only
    the secret's hash, so this is the one time it is ever seen."""
    now_s = time.time() if now is None else now
    problem = None
    with write(db):
        wait = accounts.login_wait(db, PAIRING_KEY, remote, now_s)
        if wait:
            raise PairingRefused(f"Too many wrong codes. Please wait {wait} seconds and try again.")
        row = db.execute("SELECT id, box_id, expires_at, used_at FROM pairing_codes WHERE code_hash = ?",
                         [_sha(normalise_code(code))]).fetchone()
        stamp = _iso(_dt.datetime.fromtimestamp(now_s, _dt.timezone.utc))
        if row is None or row[3] is not None or row[2] < stamp:
            # Counted (and committed) like a failed login, so guessing is slowed.
            db.execute("INSERT INTO login_failures (email, remote, at) VALUES (?, ?, ?)", [PAIRING_KEY, remote, now_s])
            problem = ("has already been used" if row is not None and row[3] is not None
                       else "has expired" if row is not None else "is not right")
        elif db.execute("SELECT revoked_at FROM boxes WHERE id = ?", [row[1]]).fetchone()[0]:
            problem = "belongs to a music box that was revoked"
        else:
            code_id, box_id = row[0], row[1]
            secret = secrets.token_urlsafe(32)
            db.execute("UPDATE pairing_codes SET used_at = ? WHERE id = ?", [stamp, code_id])
            db.execute("UPDATE boxes SET credential_hash = ?, paired_at = ? WHERE id = ?",
                       [_sha(secret), stamp, box_id])
            library.audit(db, "box.pair", detail={"box": box_id, "remote": remote})
    if problem:
        raise PairingRefused(f"That pairing code {problem}. On the hub, open the music box's page "
                             "and make a new code.")
    # The credential names its box so the hub finds the row by its unique hash alone.
    return box_id, f"{box_id}.{secret}"


def authenticate(db: sqlite_utils.Database, credential: str) -> int | None:
    """The box id this credential belongs to, or None (wrong, revoked, or replaced by a
    newer pairing)."""
    box_part, _, secret = (credential or "").partition(".")
    if not (box_part.isascii() and box_part.isdigit() and len(box_part) <= 12 and secret):
        return None
    row = db.execute("SELECT credential_hash, revoked_at FROM boxes WHERE id = ?", [int(box_part)]).fetchone()
    if row is None or row[0] is None or row[1] is not None:
        return None
    return int(box_part) if hmac.compare_digest(row[0], _sha(secret)) else None


def revoke(db: sqlite_utils.Database, box_id: int, *, user_id: int | None = None) -> None:
    """The box keeps playing what it has, but gets nothing new and can send nothing."""
    with write(db):
        db.execute("UPDATE boxes SET revoked_at = ?, credential_hash = NULL WHERE id = ? AND revoked_at IS NULL",
                   [utc_iso(), box_id])
        db.execute("DELETE FROM pairing_codes WHERE box_id = ?", [box_id])
        library.audit(db, "box.revoke", user_id=user_id, detail={"box": box_id})


def assign(db: sqlite_utils.Database, box_id: int, resident_ids: list[int], *, user_id: int | None = None) -> None:
    """The residents this box plays for: exactly these, all from the box's own home."""
    with write(db):
        home = db.execute("SELECT home_id FROM boxes WHERE id = ?", [box_id]).fetchone()
        if home is None:
            raise LibraryError("There is no such music box.")
        for rid in resident_ids:
            r = db.execute("SELECT home_id, name FROM residents WHERE id = ?", [rid]).fetchone()
            if r is None or r[0] != home[0]:
                raise LibraryError("A music box can only play for residents of its own care home.")
        have = {r[0] for r in db.execute("SELECT resident_id FROM box_residents WHERE box_id = ?", [box_id])}
        want = set(resident_ids)
        for rid in have - want:
            db.execute("DELETE FROM box_residents WHERE box_id = ? AND resident_id = ?", [box_id, rid])
        for rid in want - have:
            db.execute("INSERT INTO box_residents (box_id, resident_id) VALUES (?, ?)", [box_id, rid])
        library.audit(db, "box.residents", user_id=user_id, detail={"box": box_id, "residents": sorted(want)})


def residents_of(db: sqlite_utils.Database, box_id: int) -> list[library.Resident]:
    return [library.Resident.from_row(r) for r in db.query(
        "SELECT r.* FROM residents r JOIN box_residents br ON br.resident_id = r.id WHERE br.box_id = ? "
        "ORDER BY r.name COLLATE NOCASE", [box_id])]


def boxes_of_resident(db: sqlite_utils.Database, resident_id: int) -> list[Box]:
    """The boxes this resident is on: the only ones whose "now playing" can be theirs."""
    return [Box.from_row(r) for r in db.query(
        "SELECT b.* FROM boxes b JOIN box_residents br ON br.box_id = b.id WHERE br.resident_id = ? "
        "ORDER BY b.id", [resident_id])]


def box_has_song(db: sqlite_utils.Database, box_id: int, sha256: str) -> str | None:
    """The stored file name (<sha256>.<ext>) when a resident of this box has the song."""
    row = db.execute(
        "SELECT s.sha256 || '.' || s.ext FROM songs s JOIN resident_songs rs ON rs.song_id = s.id "
        "JOIN box_residents br ON br.resident_id = rs.resident_id WHERE br.box_id = ? AND s.sha256 = ? LIMIT 1",
        [box_id, sha256]).fetchone()
    return row[0] if row else None


def seen(db: sqlite_utils.Database, box_id: int, *, force: bool = False) -> None:
    """Record that the box was in touch (written at most every SEEN_EVERY_S)."""
    now = _now()
    cutoff = _iso(now - _dt.timedelta(seconds=SEEN_EVERY_S))
    row = db.execute("SELECT last_seen_at FROM boxes WHERE id = ?", [box_id]).fetchone()
    if row is not None and (force or not row[0] or row[0] < cutoff):
        with write(db):
            db.execute("UPDATE boxes SET last_seen_at = ? WHERE id = ?", [_iso(now), box_id])


def report_playing(db: sqlite_utils.Database, box_id: int, status: dict[str, Any]) -> None:
    """Keep what the box says it plays. A box speaks only for its own residents: a resident
    id that is not one of them is dropped, so no box can tell another home's family (or
    staff) that it plays for their relative."""
    if "resident_id" in status and status["resident_id"] not in {r.id for r in residents_of(db, box_id)}:
        status = {k: v for k, v in status.items() if k != "resident_id"}
    with write(db):
        now = utc_iso()
        db.execute("UPDATE boxes SET now_playing = ?, now_playing_at = ?, last_seen_at = ? WHERE id = ?",
                   [json.dumps(status), now, now, box_id])


# --- commands: the staff panel's buttons, carried to the box by its waiting poll ----------

def add_command(db: sqlite_utils.Database, box_id: int, action: str, *, user_id: int | None = None) -> int:
    with write(db):
        cid = db.execute("INSERT INTO box_commands (box_id, action, created_by, created_at) VALUES (?, ?, ?, ?)",
                         [box_id, action, user_id, utc_iso()]).lastrowid
        library.audit(db, "box.command", user_id=user_id, detail={"box": box_id, "action": action})
    return cid


def pending_commands(db: sqlite_utils.Database, box_id: int, *, max_age_s: int = 120) -> list[dict[str, Any]]:
    """Commands not yet done, newest two minutes only: a button pressed while the box was
    off must not fire when it comes back hours later."""
    cutoff = _iso(_now() - _dt.timedelta(seconds=max_age_s))
    return [{"id": r[0], "action": r[1]} for r in db.execute(
        "SELECT id, action FROM box_commands WHERE box_id = ? AND done_at IS NULL AND created_at >= ? ORDER BY id",
        [box_id, cutoff])]


def finish_command(db: sqlite_utils.Database, box_id: int, command_id: int, result: str) -> None:
    with write(db):
        db.execute("UPDATE box_commands SET done_at = ?, result = ? WHERE id = ? AND box_id = ? AND done_at IS NULL",
                   [utc_iso(), result[:300], command_id, box_id])


def command_result(db: sqlite_utils.Database, box_id: int, command_id: int) -> tuple[bool, str | None]:
    row = db.execute("SELECT done_at, result FROM box_commands WHERE id = ? AND box_id = ?",
                     [command_id, box_id]).fetchone()
    return (bool(row and row[0]), row[1] if row else None)


def is_online(box: Box, waiting: set[int], now: _dt.datetime | None = None) -> bool:
    if box.id in waiting:
        return True
    if not box.last_seen_at:
        return False
    now = now or _now()
    return box.last_seen_at >= _iso(now - _dt.timedelta(seconds=ONLINE_S))
