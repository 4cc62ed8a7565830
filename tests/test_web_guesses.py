"""Guessing passwords and setup codes: many sent at the same moment, or many accounts tried
from one address, are slowed down all the same, and never lock out the real person."""
from __future__ import annotations

import threading

import pytest

from content import accounts
from tests.test_web_fixtures import Browser, make_app, world  # noqa: F401


# --- guesses sent all at once ---------------------------------------------------------------

def _all_at_once(app, url: str, forms: list[dict], *, one_address: bool = True) -> list[str]:
    """POST each form from its own browser at the same moment (from one address, or each
    from its own); return the answers."""
    clients = []
    for _ in forms:
        c = Browser(app.test_client())
        c.get(url)
        clients.append(c)
    barrier = threading.Barrier(len(forms))
    answers: list[str] = [""] * len(forms)

    def go(i: int) -> None:
        barrier.wait()
        address = "10.0.0.1" if one_address else f"10.0.0.{i + 1}"
        resp = clients[i].post(url, forms[i], environ_base={"REMOTE_ADDR": address})
        answers[i] = resp.get_data(as_text=True)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def test_wrong_passwords_sent_all_at_once_are_still_slowed_down(world):
    forms = [{"email": world.staff.email, "password": f"guess-{i}"} for i in range(16)]
    answers = _all_at_once(world.app, "/login", forms)
    checked = sum("did not match" in a for a in answers)
    refused = sum("Too many tries" in a for a in answers)
    assert checked == accounts.FREE_TRIES and refused == len(forms) - checked
    # and the account is now waiting from that address, even with the right password ...
    assert "Too many tries" in _all_at_once(world.app, "/login", [{"email": world.staff.email,
                                                                "password": "staff-password-1"}])[0]
    # ... but not from the staff member's own phone: a stranger cannot lock staff out
    spread = _all_at_once(world.app, "/login", [{"email": world.staff.email, "password": "staff-password-1"}] * 2,
                          one_address=False)
    assert not any("Too many tries" in a for a in spread[1:])


def test_setup_codes_sent_all_at_once_are_still_slowed_down(lib):
    forms = [{"code": f"AAAA-BBBB-{i:04d}", "email": "sam@home.example", "password": "a-good-password",
              "again": "a-good-password"} for i in range(12)]
    answers = _all_at_once(make_app(lib.data), "/setup", forms)
    assert sum("setup code is not right" in a for a in answers) == accounts.FREE_TRIES
    assert sum("Too many tries" in a for a in answers) == len(forms) - accounts.FREE_TRIES


# --- many accounts guessed from one address ------------------------------------------------------

def test_guessing_many_accounts_from_one_address_is_slowed_but_others_can_still_log_in(lib):
    accounts.create_user(lib.db, "real@family.example", "right-password", "family")
    now = 1_000_000.0
    for i in range(accounts.FREE_TRIES_PER_ADDRESS):
        with pytest.raises(accounts.LoginRefused, match="did not match"):
            accounts.authenticate(lib.db, f"guess{i}@x.example", "wrong", remote="192.168.1.50", now=now + i)
    later = now + accounts.FREE_TRIES_PER_ADDRESS
    with pytest.raises(accounts.LoginRefused, match="Too many tries"):
        accounts.authenticate(lib.db, "real@family.example", "right-password", remote="192.168.1.50", now=later)
    # the same account from another phone on the network is not held up
    assert accounts.authenticate(lib.db, "real@family.example", "right-password", remote="192.168.1.51",
                                 now=later).email == "real@family.example"
