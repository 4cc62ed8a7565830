"""install.sh, run for real into a temporary root (no systemd, no apt): the installed
admin and kiosk start from there the way their units say and answer; a re-run keeps the
library and an edited config; uninstall keeps the library unless --purge.

The venv is seeded from this checkout's .venv (`--venv-from`), so no network is needed.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.audio import write_song

pytestmark = pytest.mark.slow  # several real installs into temporary roots

REPO = Path(__file__).resolve().parents[1]
INSTALL = REPO / "deploy" / "install.sh"
UNITS = ("evergreen-admin.service", "evergreen-kiosk.service")


def install(root: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["bash", str(INSTALL), "--root", str(root), "--no-systemd", "--skip-packages",
           "--python", sys._base_executable, "--venv-from", sys.prefix, *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def evergreen(root: Path, *argv: str) -> subprocess.CompletedProcess:
    """The installed `evergreen` command, as staff would type it on the Pi."""
    done = subprocess.run([str(root / "usr/local/bin/evergreen"), *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done


def seed_mary(root: Path, folder: Path) -> None:
    """Mary, born 1938, with one song: the library the keep-and-restore tests check."""
    folder.mkdir(parents=True, exist_ok=True)
    song = write_song(folder / "Moonlight Serenade.ogg", 440, 11, tags={"title": "Moonlight Serenade"})
    evergreen(root, "residents", "add", "Mary", "--birth-year", "1938")
    evergreen(root, "import", "--resident", "Mary", str(song))
    assert "Mary (born 1938): 1 songs" in evergreen(root, "residents", "list").stdout


@pytest.fixture(scope="module")
def first_install(tmp_path_factory) -> tuple[Path, str]:
    """One install with Mary's library, and what install.sh said while making it."""
    r = tmp_path_factory.mktemp("pi") / "root"
    started = time.monotonic()
    done = install(r)
    took = time.monotonic() - started
    print(f"\ninstall.sh into a temporary root took {took:.1f} s")
    seed_mary(r, tmp_path_factory.mktemp("songs"))
    return r, done.stdout


@pytest.fixture(scope="module")
def root(first_install) -> Path:
    """The shared install, for the tests that only look at it."""
    return first_install[0]


@pytest.fixture
def fresh_root(tmp_path) -> Path:
    """An install of its own, for a test that changes or removes what it installed."""
    r = tmp_path / "pi-root"
    install(r)
    return r


def unit(root: Path, name: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (root / "etc/systemd/system" / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            entries.setdefault(key, []).append(value)
    return entries


def unit_env(u: dict[str, list[str]]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "EVERGREEN_DATA", "EVERGREEN_CONFIG", "PYTHONPATH")}
    for item in u.get("Environment", []):
        key, _, value = item.partition("=")
        env[key] = value
    return env


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except AssertionError:
            raise  # the process died: no point waiting
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s (last: {last!r})")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_install_lays_out_the_appliance(root):
    app = root / "opt/evergreen/app"
    assert (app / "content" / "db.py").is_file() and (app / "kiosk").is_dir()
    assert not list(app.rglob("tests"))
    assert (root / "var/lib/evergreen/tmp").is_dir()
    assert (root / "etc/evergreen/kiosk.toml").read_text() == (REPO / "deploy/kiosk.example.toml").read_text()
    for f in ("etc/systemd/journald.conf.d/evergreen.conf", "etc/polkit-1/rules.d/50-evergreen.rules",
              "etc/avahi/services/evergreen.service"):
        assert (root / f).is_file(), f
    assert os.access(root / "usr/local/bin/evergreen", os.X_OK)
    # The venv finds the installed app (not this checkout) from any folder.
    py = root / "opt/evergreen/venv/bin/python"
    where = subprocess.run([str(py), "-P", "-c", "import content, kiosk; print(content.__file__)"],
                           cwd="/", capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip() == str(app / "content" / "__init__.py")


def test_without_a_gpio_library_the_install_finishes_and_says_so_in_one_line(first_install):
    # This machine has no RPi.GPIO (and is not ARM): the box would run on USB buttons.
    _root, said = first_install
    lines = [line.strip() for line in said.splitlines() if "GPIO buttons are" in line]
    assert lines == ["GPIO buttons are off (no RPi.GPIO library for this system); USB buttons work."]


def test_the_installed_units_point_into_the_root_and_pass_verify(root):
    units = [root / "etc/systemd/system" / n for n in UNITS]
    for u in units:
        text = u.read_text()
        assert f"{root}/opt/evergreen/venv/bin/python" in text
        assert f"EVERGREEN_DATA={root}/var/lib/evergreen" in text
    done = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def snapshot_outside_data(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the install except the library folder: (size, mtime) by path."""
    data = root / "var/lib/evergreen"
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if Path(dirpath) == data or data in Path(dirpath).parents:
            continue
        for name in files:
            st = (Path(dirpath) / name).lstat()
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns)
    return out


def test_the_installed_admin_and_kiosk_start_and_answer(fresh_root, tmp_path):
    root = fresh_root
    config = root / "etc/evergreen/kiosk.toml"
    # This machine has no sound card: the kiosk plays to libvlc's dummy output here.
    config.write_text(re.sub(r'(?m)^output = .*$', 'output = "dummy"', config.read_text()))
    before = snapshot_outside_data(root)

    admin_unit = unit(root, "evergreen-admin.service")
    env = unit_env(admin_unit)
    for pre in admin_unit["ExecStartPre"]:
        argv = shlex.split(pre.lstrip("-+"))
        done = subprocess.run(argv, env=env, cwd=admin_unit["WorkingDirectory"][0], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{pre}: {done.stdout}{done.stderr}"
    argv = shlex.split(admin_unit["ExecStart"][0].replace("--host 0.0.0.0", "--host 127.0.0.1").replace("--port 8080", "--port 0"))
    assert "--port" in argv and argv[argv.index("--port") + 1] == "0", argv
    admin_log = open(tmp_path / "admin.log", "w")
    admin = subprocess.Popen(argv, env=env, cwd=admin_unit["WorkingDirectory"][0], stdout=admin_log, stderr=subprocess.STDOUT)

    kiosk_unit = unit(root, "evergreen-kiosk.service")
    kenv = unit_env(kiosk_unit)
    # Stand in for systemd's notify socket (Type=notify, WatchdogSec=).
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(1.0)
    kenv["NOTIFY_SOCKET"] = str(tmp_path / "notify.sock")
    kiosk_log = open(tmp_path / "kiosk.log", "w")
    kiosk = subprocess.Popen(shlex.split(kiosk_unit["ExecStart"][0]), env=kenv, cwd=kiosk_unit["WorkingDirectory"][0],
                             stdin=subprocess.DEVNULL, stdout=kiosk_log, stderr=subprocess.STDOUT)
    try:
        def admin_port():
            log = (tmp_path / "admin.log").read_text()
            assert admin.poll() is None, log
            found = re.search(r"Serving on http://127\.0\.0\.1:(\d+)", log)
            return int(found.group(1)) if found else None
        port = wait_for(admin_port, 60, "the installed admin logging the port it listens on")

        def admin_answers():
            assert admin.poll() is None, (tmp_path / "admin.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()
        status, body = wait_for(admin_answers, 60, "the installed admin answering HTTP")
        assert status == 200 and "Evergreen" in body

        # The admin printed a first-login code to its log (the journal, on the Pi).
        assert re.search(r"one-time code", (tmp_path / "admin.log").read_text(), re.I)

        def kiosk_status():
            assert kiosk.poll() is None, (tmp_path / "kiosk.log").read_text()
            done = subprocess.run([str(root / "usr/local/bin/evergreen"), "kiosk", "status"],
                                  capture_output=True, text=True, timeout=30)
            return json.loads(done.stdout) if done.returncode == 0 else None
        answer = wait_for(kiosk_status, 60, "the installed kiosk answering `evergreen kiosk status`")
        # With an empty library the kiosk stays quiet and says why, in words.
        assert answer["state"] != "playing" and answer["resident"] is None
        assert answer["quiet_reason"] == "There are no residents in the library yet."

        # systemd hears READY=1, then keeps hearing heartbeats (WatchdogSec= is set).
        watchdog_s = float(kiosk_unit["WatchdogSec"][0])
        messages: list[tuple[float, str]] = []

        def two_heartbeats():
            try:
                messages.append((time.monotonic(), notify.recv(4096).decode()))
            except socket.timeout:
                pass
            return sum("WATCHDOG=1" in m for _, m in messages) >= 2
        wait_for(two_heartbeats, 3 * watchdog_s, "two watchdog heartbeats from the kiosk")
        assert any("READY=1" in m for _, m in messages)

        # A song added from the command line plays (to the dummy output) on a press.
        wrapper = str(root / "usr/local/bin/evergreen")
        song = write_song(tmp_path / "Moonlight Serenade.ogg", 440, 11, tags={"title": "Moonlight Serenade"})
        for argv in (["residents", "add", "Mary", "--birth-year", "1938"], ["import", "--resident", "Mary", str(song)],
                     ["kiosk", "press", "play"]):
            done = subprocess.run([wrapper, *argv], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"

        def playing():
            answer = kiosk_status()
            return answer if answer and answer["state"] == "playing" else None
        now = wait_for(playing, 30, "the kiosk playing Mary's song")
        assert now["song"]["title"] == "Moonlight Serenade"
    finally:
        notify.close()
        stop(kiosk)
        stop(admin)
        admin_log.close()
        kiosk_log.close()
    assert kiosk.returncode == 0, (tmp_path / "kiosk.log").read_text()
    # Nothing was written outside the library folder: the rest may be a read-only root.
    after = snapshot_outside_data(root)
    assert {p: v for p, v in after.items() if before.get(p) != v} == {}


def test_a_rerun_updates_the_app_and_keeps_the_library_and_an_edited_config(fresh_root, tmp_path):
    root = fresh_root
    seed_mary(root, tmp_path / "songs")
    wrapper = str(root / "usr/local/bin/evergreen")
    added = subprocess.run([wrapper, "residents", "add", "Tom", "--birth-year", "1941"],
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    config = root / "etc/evergreen/kiosk.toml"
    edited = config.read_text() + '\n# Rose ward, by the window\n'
    config.write_text(edited)
    (root / "opt/evergreen/app/content/stale_module.py").write_text("# from an older version\n")
    polkit_rules = root / "etc/polkit-1/rules.d"
    polkit_rules.chmod(0o700)  # as Debian ships it: private to polkitd

    started = time.monotonic()
    done = install(root)
    print(f"\nre-running install.sh (an update) took {time.monotonic() - started:.1f} s")
    assert "keeping your kiosk.toml" in done.stdout
    assert config.read_text() == edited
    assert polkit_rules.stat().st_mode & 0o777 == 0o700  # other people's folders keep their permissions
    assert not (root / "opt/evergreen/app/content/stale_module.py").exists()
    assert not (root / "opt/evergreen/app.new").exists() and not (root / "opt/evergreen/app.old").exists()
    listed = subprocess.run([wrapper, "residents", "list"], capture_output=True, text=True, timeout=60)
    assert "Mary (born 1938): 1 songs" in listed.stdout and "Tom (born 1941)" in listed.stdout


def test_uninstall_keeps_the_library_unless_purged_and_a_backup_brings_it_back(fresh_root, tmp_path):
    root = fresh_root
    seed_mary(root, tmp_path / "songs")
    wrapper = str(root / "usr/local/bin/evergreen")
    backup = tmp_path / "usb" / "evergreen.tar"
    backup.parent.mkdir()
    made = subprocess.run([wrapper, "backup", "--to", str(backup)], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr

    done = install(root, "--uninstall")
    assert "still in" in done.stdout
    assert not (root / "opt/evergreen").exists()
    assert not (root / "etc/systemd/system/evergreen-kiosk.service").exists()
    assert not (root / "usr/local/bin/evergreen").exists()
    assert (root / "var/lib/evergreen/library.db").is_file()
    assert (root / "etc/evergreen/kiosk.toml").is_file()
    install(root, "--uninstall", "--purge")
    assert not (root / "var/lib/evergreen").exists() and not (root / "etc/evergreen").exists()

    # A fresh install (a new Pi), then the backup: the residents are back.
    install(root)
    restored = subprocess.run([wrapper, "restore", str(backup)], capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    listed = subprocess.run([wrapper, "residents", "list"], capture_output=True, text=True, timeout=60)
    assert "Mary (born 1938)" in listed.stdout


def test_a_dry_run_of_purge_deletes_nothing(root):
    done = install(root, "--uninstall", "--purge", "--dry-run")
    assert "would run: rm -rf" in done.stdout and "nothing was changed" in done.stdout
    assert (root / "opt/evergreen/venv/bin/python").exists()
    assert (root / "var/lib/evergreen/library.db").is_file()
    assert (root / "etc/evergreen/kiosk.toml").is_file()


def test_dry_run_shows_every_step_and_changes_nothing(tmp_path):
    target = tmp_path / "untouched"
    done = install(target, "--dry-run")
    assert not target.exists()
    for step in ("Folders", "The app", "Python environment", "Config", "Services"):
        assert f"==> {step}" in done.stdout
    assert done.stdout.count("would run:") >= 8
    assert "would write:" in done.stdout and "nothing was changed" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--frobnicate"], "unknown option --frobnicate"),
    (["--root", "relative/path"], "absolute path"),
    (["--hostname", "Bad Name;rm"], "lower-case letters"),
    (["--purge"], "--purge goes with --uninstall"),
])
def test_bad_options_get_a_plain_error(args, message):
    done = subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr and done.stderr.startswith("Error: ")
