"""Accounts in the admin: first-run setup, logging in and out, slowed guessing, passwords,
invites, and the users command."""
from __future__ import annotations

import datetime as dt
import logging
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from content import account_links, accounts
from content.db import LibraryError
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, Browser, make_app, world  # noqa: F401


def test_first_run_setup_needs_the_code_from_the_log(lib, caplog):
    with caplog.at_level(logging.WARNING, logger="evergreen.admin"):
        app = make_app(lib.data)
    code = re.search(r"code: (\S+)", caplog.text).group(1)
    c = Browser(app.test_client())
    assert c.get("/login").headers["Location"].endswith("/setup")
    c.get("/setup")
    form = {"email": "sam@home.example", "password": "a-good-pass", "again": "a-good-pass", "name": "Sam"}
    wrong = c.post("/setup", {**form, "code": "0000-0000-0000"})
    assert wrong.status_code == 400 and "setup code is not right" in wrong.get_data(as_text=True)
    assert not accounts.has_staff(lib.db)
    ok = c.post("/setup", {**form, "code": code.lower()})
    assert ok.status_code == 302
    assert accounts.find_user(lib.db, "sam@home.example").is_staff
    # Used once: the page is gone, and the code no longer works.
    other = Browser(app.test_client())
    assert other.get("/setup").headers["Location"].endswith("/login")
    other.get("/login")
    again = other.post("/setup", {**form, "email": "eve@x.example", "code": code})
    assert again.status_code == 302 and accounts.find_user(lib.db, "eve@x.example") is None


def test_no_setup_code_once_staff_exist(world, caplog):
    with caplog.at_level(logging.WARNING, logger="evergreen.admin"):
        make_app(world.data)
    assert "one-time code" not in caplog.text


def test_login_logout_and_wrong_password(world):
    c = world.client()
    assert c.get("/").headers["Location"].startswith("/login")
    c.get("/login")
    bad = c.post("/login", {"email": world.staff.email, "password": "nope-nope"})
    assert bad.status_code == 401
    assert "did not match" in bad.get_data(as_text=True)
    c.login(world.staff.email, STAFF_PW)
    assert "Mary" in c.get("/").get_data(as_text=True)
    assert c.post("/logout").status_code == 302
    assert c.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(world):
    c = world.client()
    c.get("/login")
    resp = c.post("/login", {"email": world.staff.email, "password": STAFF_PW})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_next_never_leaves_the_site(world):
    c = world.client()
    c.get("/login")
    resp = c.post("/login?next=//evil.example/x", {"email": world.staff.email, "password": STAFF_PW})
    assert resp.headers["Location"] == "/"


def test_repeated_failures_slow_logins_down_even_with_the_right_password(world):
    c = world.client()
    c.get("/login")
    for _ in range(accounts.FREE_TRIES):
        assert c.post("/login", {"email": world.mary_family.email, "password": "guess-guess"}).status_code == 401
    resp = c.post("/login", {"email": world.mary_family.email, "password": FAMILY_PW})
    assert resp.status_code == 401
    assert "Too many tries. Please wait" in resp.get_data(as_text=True)
    # Another account is not affected by someone guessing at this one.
    c.login(world.staff.email, STAFF_PW)


def test_wait_grows_then_ends(lib):
    accounts.create_user(lib.db, "a@x.example", "right-password", "family")
    now = 1_000_000.0
    for i in range(accounts.FREE_TRIES + 1):
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate(lib.db, "a@x.example", "wrong", now=now + i * 100)
    first = accounts.login_wait(lib.db, "a@x.example", now=now + 500)
    assert first > accounts.FIRST_WAIT_S  # the sixth failure doubled the wait
    assert accounts.login_wait(lib.db, "a@x.example", now=now + 500 + first) == 0
    assert accounts.authenticate(lib.db, "a@x.example", "right-password", now=now + 500 + first).email == "a@x.example"


def test_change_password_ends_other_sessions(world):
    phone = world.client(world.mary_family)
    laptop = world.client(world.mary_family)
    phone.get("/password")
    mismatch = phone.post("/password", {"current": FAMILY_PW, "new": "brand-new-pass", "again": "other-pass"})
    assert "not the same" in mismatch.get_data(as_text=True)
    wrong = phone.post("/password", {"current": "not-it-at-all", "new": "brand-new-pass", "again": "brand-new-pass"})
    assert "current password was not right" in wrong.get_data(as_text=True)
    ok = phone.post("/password", {"current": FAMILY_PW, "new": "brand-new-pass", "again": "brand-new-pass"})
    assert ok.status_code == 302
    assert phone.get(f"/residents/{world.mary.id}").status_code == 200
    assert laptop.get(f"/residents/{world.mary.id}").status_code == 302  # sent to log in again
    fresh = world.client()
    fresh.login(world.mary_family.email, "brand-new-pass")


def test_invite_link_makes_a_family_account_for_one_resident(world):
    staff = world.client(world.staff)
    staff.get(f"/residents/{world.mary.id}")
    page = staff.post(f"/residents/{world.mary.id}/invites", follow_redirects=True).get_data(as_text=True)
    link = re.search(r'id="invite-link">(http://evergreen.test:8080/invite/[^<]+)<', page).group(1)
    path = link.removeprefix("http://evergreen.test:8080")
    fam = world.client()
    assert "Songs for Mary" in fam.get(path).get_data(as_text=True)
    short = fam.post(path, {"email": "cath@family.example", "password": "short", "again": "short"})
    assert "at least 8 characters" in short.get_data(as_text=True)
    ok = fam.post(path, {"email": "cath@family.example", "password": "cath-password", "again": "cath-password",
                         "name": "Cath"})
    assert ok.headers["Location"] == f"/residents/{world.mary.id}"
    assert fam.get(f"/residents/{world.mary.id}").status_code == 200
    assert fam.get(f"/residents/{world.bob.id}").status_code == 404
    # One use only.
    used = world.client().get(path)
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)


def test_invite_expires_after_a_week(lib, mary):
    then = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    token = account_links.create_invite(lib.db, mary.id, now=then)
    assert account_links.open_invite(lib.db, token, now=then + dt.timedelta(days=6)).resident_name == "Mary"
    with pytest.raises(LibraryError, match="expired"):
        account_links.open_invite(lib.db, token, now=then + dt.timedelta(days=7, seconds=1))


def test_logged_in_family_member_adds_a_second_relative_by_invite(world, lib):
    token = account_links.create_invite(lib.db, world.bob.id)
    anne = world.client(world.mary_family)
    anne.get(f"/invite/{token}")
    assert anne.post(f"/invite/{token}").status_code == 302
    assert {r.name for r in accounts.residents_for(lib.db, world.mary_family)} == {"Mary", "Bob"}


def test_invite_for_an_existing_email_asks_to_log_in(world, lib):
    token = account_links.create_invite(lib.db, world.bob.id)
    c = world.client()
    c.get(f"/invite/{token}")
    resp = c.post(f"/invite/{token}", {"email": world.mary_family.email, "password": "whatever-pw",
                                       "again": "whatever-pw"})
    assert "log in first" in resp.get_data(as_text=True)
    assert account_links.open_invite(lib.db, token)  # still usable


def test_passwords_are_stored_hashed(world, lib):
    row = lib.db["users"].get(world.staff.id)
    assert STAFF_PW not in row["password_hash"] and row["password_hash"].startswith("scrypt:")


REPO = Path(__file__).resolve().parent.parent


def run_cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`python -m content ...` in a child process, as staff would run it."""
    return subprocess.run([sys.executable, "-m", "content", *argv], input=stdin, capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def run_cli_in_terminal(argv: list[str], replies: list[tuple[str, str]], timeout: float = 60) -> tuple[int, str]:
    """Run the CLI on a real pseudo-terminal and type each reply when its prompt appears
    (getpass reads from the terminal, not from stdin). Returns (exit status, what it showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        try:
            os.chdir(REPO)
            os.execv(sys.executable, [sys.executable, "-m", "content", *argv])
        finally:
            os._exit(127)
    shown, seen_up_to, pending = b"", 0, list(replies)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child has closed its terminal
                break
            if not chunk:
                break
            shown += chunk
            while pending and pending[0][0].encode() in shown[seen_up_to:]:
                prompt, reply = pending.pop(0)
                seen_up_to = shown.index(prompt.encode(), seen_up_to) + len(prompt)
                os.write(fd, reply.encode() + b"\n")
    finally:
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert pending == [], f"never asked {pending[0][0]!r}; showed {shown.decode(errors='replace')!r}"
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_users_command_adds_staff_from_stdin(lib):
    done = run_cli("users", "add", "--role", "staff", "--email", "boss@home.example", "--password-stdin",
                   "--db", str(lib.db_path), stdin="cli-password-1\n")
    assert done.returncode == 0, done.stderr
    assert "Added staff account boss@home.example" in done.stdout
    assert accounts.authenticate(lib.db, "boss@home.example", "cli-password-1").is_staff


def test_users_command_family_with_resident_and_prompt(lib, mary):
    status, shown = run_cli_in_terminal(
        ["users", "add", "--role", "family", "--email", "f@x.example", "--resident", "Mary", "--db", str(lib.db_path)],
        [("Password: ", "family-pass-9"), ("Same password again: ", "family-pass-9")])
    assert status == 0, shown
    assert "family-pass-9" not in shown  # typed without being shown
    assert not accounts.authenticate(lib.db, "f@x.example", "family-pass-9").is_staff
    listed = run_cli("users", "list", "--db", str(lib.db_path))
    assert listed.returncode == 0, listed.stderr
    assert "f@x.example: family, sees Mary" in listed.stdout


def test_users_command_errors_in_plain_words(lib):
    done = run_cli("users", "add", "--role", "staff", "--email", "x@y.example", "--password-stdin",
                   "--db", str(lib.db_path), stdin="short\n")
    assert done.returncode == 2 and "at least 8 characters" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("users", "add", "--role", "family", "--email", "x@y.example", "--resident", "Nobody",
                   "--password-stdin", "--db", str(lib.db_path), stdin="long-enough-1\n")
    assert done.returncode == 2 and "no resident called Nobody" in done.stderr
    assert "Traceback" not in done.stderr
    assert lib.db.execute("SELECT COUNT(*) FROM users WHERE email = 'x@y.example'").fetchone()[0] == 0


def test_staff_can_stop_sharing_a_resident_with_a_family_member(world, lib):
    anne = world.client(world.mary_family)
    anne.get(f"/residents/{world.mary.id}")
    assert anne.post(f"/residents/{world.mary.id}/family/{world.mary_family.id}/remove").status_code == 403
    staff = world.client(world.staff)
    page = staff.get(f"/residents/{world.mary.id}/settings").get_data(as_text=True)
    assert "Stop sharing with anne@family.example" in page
    resp = staff.post(f"/residents/{world.mary.id}/family/{world.mary_family.id}/remove", follow_redirects=True)
    assert "anne@family.example can no longer see Mary." in resp.get_data(as_text=True)
    assert anne.get(f"/residents/{world.mary.id}").status_code == 404
    assert staff.post(f"/residents/{world.mary.id}/family/{world.mary_family.id}/remove").status_code == 404
