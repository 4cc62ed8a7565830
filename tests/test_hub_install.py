"""install.sh --hub, run for real into a temporary root (no systemd, no apt): the hub's
Caddyfile, public address and backup settings are written, its units are installed and
point into the root, Litestream is in the venv, and the installed hub starts from its unit
and answers only for its own name."""
from __future__ import annotations

import re
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.hubkit import free_port, wait_for
from tests.test_deploy_install import install, unit, unit_env

pytestmark = pytest.mark.slow


def test_install_hub_writes_caddy_backup_and_its_units_and_the_hub_starts(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    done = install(root, "--hub", "--domain", "music.example.org", "--tls", "internal",
                   "--backup-to", "file:///var/backups/evergreen")
    assert "https://music.example.org/" in done.stdout
    caddyfile = (root / "etc/caddy/Caddyfile").read_text()
    assert re.search(r"(?m)^music\.example\.org \{$", caddyfile) and "tls internal" in caddyfile
    assert "reverse_proxy 127.0.0.1:8080" in caddyfile
    assert (root / "etc/evergreen/hub.env").read_text() == "EVERGREEN_PUBLIC_URL=https://music.example.org\n"
    backup = (root / "etc/evergreen/litestream.yml").read_text()
    assert f"path: {root}/var/lib/evergreen/library.db" in backup and "url: file:///var/backups/evergreen" in backup
    assert (root / "var/backups/evergreen").is_dir()
    assert (root / "opt/evergreen/venv/bin/litestream").exists()
    for name in ("evergreen-hub.service", "evergreen-litestream.service"):
        assert (root / "etc/systemd/system" / name).exists()
    assert not (root / "etc/systemd/system/evergreen-kiosk.service").exists()

    hub_unit = unit(root, "evergreen-hub.service")
    env = unit_env(hub_unit)
    env["EVERGREEN_PUBLIC_URL"] = "https://music.example.org"       # what its EnvironmentFile says
    port = free_port()
    argv = shlex.split(hub_unit["ExecStart"][0].replace("--port 8080", f"--port {port}"))
    log = open(tmp_path / "hub.log", "w")
    hub = subprocess.Popen(argv, env=env, cwd=hub_unit["WorkingDirectory"][0], stdout=log, stderr=subprocess.STDOUT)
    try:
        def status(host: str) -> int | None:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/login", headers={"Host": host})
            try:
                with urllib.request.urlopen(req, timeout=3) as r:
                    return r.status
            except urllib.error.HTTPError as exc:
                return exc.code
            except OSError:
                assert hub.poll() is None, (tmp_path / "hub.log").read_text()
                return None
        assert wait_for(lambda: status("music.example.org"), 60, "the installed hub answers") == 200
        assert status("evil.example") == 400
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/box/state", headers={"Host": "music.example.org"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=3)
        assert refused.value.code == 401
    finally:
        hub.terminate()
        hub.wait(15)

    bad = install(root, "--hub", "--domain", "Music Example", check=False)
    assert bad.returncode != 0 and "--hub needs --domain" in bad.stderr
