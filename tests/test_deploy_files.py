"""The appliance's files are valid: every shell script passes shellcheck, the systemd units
pass `systemd-analyze verify` and keep their safety settings, and the small config files
say what the README says they do."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SKIP_DIRS = {".git", ".venv", "var", "test-output", "node_modules", "__pycache__", ".pytest_cache"}


def shell_scripts() -> list[Path]:
    """Every script in the repo: *.sh, and any file whose first line starts a shell."""
    found = []
    for dirpath, dirnames, filenames in os.walk(REPO):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            if name.endswith(".sh"):
                found.append(path)
                continue
            try:
                with open(path, "rb") as fh:
                    first = fh.readline(80)
            except OSError:
                continue
            if first.startswith(b"#!") and any(sh in first for sh in (b"bash", b"/sh", b"env sh", b"dash")):
                found.append(path)
    return sorted(found)


def test_the_script_list_covers_the_ones_we_ship():
    names = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert {"deploy/install.sh", "deploy/apt-ensure.sh", "deploy/evergreen", ".ci/run"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_shell_script_passes_shellcheck(script):
    done = subprocess.run(["shellcheck", "--external-sources", str(script)], cwd=script.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def unit_entries(path: Path) -> dict[str, list[str]]:
    """`Section.Key` → values, in order (systemd allows a key more than once)."""
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return entries


def rooted_units(tmp_path: Path) -> list[Path]:
    """The units with /opt/evergreen pointing into a temporary root whose venv python exists
    (verify checks that every ExecStart binary is there)."""
    bindir = tmp_path / "opt" / "evergreen" / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(sys.executable)
    (bindir / "litestream").symlink_to("/bin/true")
    out = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/evergreen", str(tmp_path / "opt" / "evergreen")))
        out.append(copy)
    return out


def test_units_pass_systemd_analyze_verify_without_a_single_warning(tmp_path):
    units = rooted_units(tmp_path)
    assert [u.name for u in units] == ["evergreen-admin.service", "evergreen-hub.service", "evergreen-kiosk.service",
                                       "evergreen-litestream.service", "evergreen-sync.service"]
    done = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""


def test_verify_would_catch_a_broken_unit(tmp_path):
    """The check above is worth something: a typo'd key and a bad value are reported."""
    unit = next(u for u in rooted_units(tmp_path) if u.name == "evergreen-kiosk.service")
    unit.write_text(unit.read_text().replace("WatchdogSec=", "WatchdgSec=").replace("Restart=always", "Restart=sometimes"))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert "WatchdgSec" in done.stderr and "restart" in done.stderr.lower()


def test_the_units_restart_always_and_keep_their_hardening():
    for name in ("evergreen-kiosk.service", "evergreen-admin.service", "evergreen-hub.service",
                 "evergreen-sync.service"):
        e = unit_entries(DEPLOY / "systemd" / name)
        assert e["Service.Restart"] == ["always"], name
        assert e["Service.User"] == ["evergreen"], name
        assert e["Service.ProtectSystem"] == ["strict"], name
        assert e["Service.ReadWritePaths"] == ["/var/lib/evergreen"], name
        assert e["Service.NoNewPrivileges"] == ["yes"], name
        assert e["Service.PrivateTmp"] == ["yes"], name
        assert e["Service.ProtectHome"] == ["yes"], name
        env = e["Service.Environment"]
        assert "EVERGREEN_DATA=/var/lib/evergreen" in env, name
        # Upload spooling on real disk inside the writable data path, not a RAM /tmp.
        assert "TMPDIR=/var/lib/evergreen/tmp" in env, name
        assert e["Install.WantedBy"] == ["multi-user.target"], name
        assert "StartLimitIntervalSec" in " ".join(e), name  # never give up restarting


def test_the_sync_agent_runs_under_the_watchdog_only_on_a_joined_box_whose_admin_is_then_off():
    sync = unit_entries(DEPLOY / "systemd" / "evergreen-sync.service")
    assert sync["Service.Type"] == ["notify"] and sync["Service.WatchdogSec"]
    assert sync["Unit.ConditionPathExists"] == ["/var/lib/evergreen/box.json"]
    admin = unit_entries(DEPLOY / "systemd" / "evergreen-admin.service")
    assert admin["Unit.ConditionPathExists"] == ["!/var/lib/evergreen/box.json"]
    hub = unit_entries(DEPLOY / "systemd" / "evergreen-hub.service")
    assert "--host 127.0.0.1" in hub["Service.ExecStart"][0]   # only Caddy reaches it


def test_the_kiosk_runs_under_the_watchdog_with_direct_alsa_and_gpio():
    e = unit_entries(DEPLOY / "systemd" / "evergreen-kiosk.service")
    assert e["Service.Type"] == ["notify"]
    assert int(e["Service.WatchdogSec"][0]) >= 10
    groups = e["Service.SupplementaryGroups"][0].split()
    assert {"audio", "gpio"} <= set(groups)
    assert "PrivateDevices" not in " ".join(e)  # it would hide /dev/snd and /dev/gpiochip*
    assert not any("pulse" in v.lower() for values in e.values() for v in values)  # ALSA, no sound server
    assert e["Service.ExecStart"] == ["/opt/evergreen/venv/bin/python -m kiosk run --config /etc/evergreen/kiosk.toml"]


def test_the_admin_checks_the_library_before_it_starts_and_listens_on_the_lan():
    e = unit_entries(DEPLOY / "systemd" / "evergreen-admin.service")
    assert any("-m content check --repair" in line for line in e["Service.ExecStartPre"])
    assert e["Service.ExecStart"] == ["/opt/evergreen/venv/bin/python -m content.web --host 0.0.0.0 --port 8080"]


def test_power_off_permission_is_for_the_service_user_only():
    rule = (DEPLOY / "polkit" / "50-evergreen.rules").read_text()
    assert 'subject.user == "evergreen"' in rule
    assert '"org.freedesktop.login1.power-off"' in rule
    assert "polkit.Result.YES" in rule


def test_avahi_announces_the_admin_page():
    tree = ET.parse(DEPLOY / "avahi" / "evergreen.service")
    service = tree.getroot().find("service")
    assert service.findtext("type") == "_http._tcp"
    assert service.findtext("port") == "8080"


def test_journald_limits_keep_the_journal_small():
    e = unit_entries(DEPLOY / "journald" / "evergreen.conf")
    size = e["Journal.SystemMaxUse"][0]
    assert size.endswith("M") and int(size[:-1]) <= 200
    assert "Journal.RuntimeMaxUse" in e


def test_what_the_pi_takes_from_debian_is_installed_by_apt_before_pip():
    """PyPI has no arm64 wheel for these, and a Pi has no compiler: install.sh installs
    their Debian packages, and requirements.txt names each with a floor pip then accepts."""
    pairs = [line.partition("#")[0].split() for line in (DEPLOY / "python-from-debian.txt").read_text().splitlines()]
    pairs = [p for p in pairs if p]
    assert pairs and all(len(p) == 2 for p in pairs), pairs
    required = {line.partition("#")[0].split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
                for line in (REPO / "requirements.txt").read_text().splitlines()}
    dry = subprocess.run(["bash", str(DEPLOY / "install.sh"), "--dry-run"], capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    apt_step = next(line for line in dry.stdout.splitlines() if "apt-ensure.sh" in line)
    for name, package in pairs:
        assert name.lower() in required, f"{name} is taken from Debian but not in requirements.txt"
        assert package in apt_step.split(), f"install.sh does not install {package}: {apt_step}"
    # GPIO is optional (a box without it runs on USB buttons): a requirement would fail the
    # whole install where no GPIO library can be had.
    assert "rpi-lgpio" not in required and "rpi.gpio" not in required
