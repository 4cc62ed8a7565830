"""Checks run inside the emulated arm64 root, after `deploy/install.sh --no-systemd`.

Run with the installed venv's Python (standard library and the installed app only), as
root, the way staff would use the box: the `evergreen` command, and each service started
the way its systemd unit says (its user, environment, folder, ExecStartPre and ExecStart).

    python inside.py SONGS_DIR        songs added, the kiosk plays, the admin answers
    python inside.py --again          after a reinstall: the library is still there

Prints one line per check and a block of timings; exits 1 at the first failure.
"""
from __future__ import annotations

import json
import os
import platform
import pwd
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

EVERGREEN = "/usr/local/bin/evergreen"
UNITS = Path("/etc/systemd/system")
CONFIG = Path("/etc/evergreen/kiosk.toml")
DATA = Path("/var/lib/evergreen")
HEARD = DATA / "tmp" / "heard.wav"
RESIDENT = "Mary"
LOG_DIR = Path("/root/arm64-check")


class CheckFailed(Exception):
    pass


def ok(what: str) -> None:
    print(f"ok    {what}", flush=True)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll until `predicate` returns something true; fail at the deadline or if `proc` dies."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise CheckFailed(f"{what}: the process ended ({proc.returncode}).\n{tail(log)}")
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(0.1)
    raise CheckFailed(f"{what} did not happen within {timeout:.0f} s (last: {last!r}).\n{tail(log)}")


def tail(log: Path | None) -> str:
    return "" if log is None or not log.exists() else log.read_text(errors="replace")[-3000:]


def evergreen(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([EVERGREEN, *argv], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise CheckFailed(f"evergreen {' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


@dataclass
class Unit:
    """What a systemd unit says about starting its service."""
    user: str
    env: dict[str, str]
    cwd: str
    pre: list[list[str]] = field(default_factory=list)
    start: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, name: str) -> "Unit":
        entries: dict[str, list[str]] = {}
        for line in (UNITS / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                key, _, value = line.partition("=")
                entries.setdefault(key, []).append(value)
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        for item in entries.get("Environment", []):
            key, _, value = item.partition("=")
            env[key] = value
        if "QEMU_CPU" in os.environ:  # the emulated CPU (see root.sh), not a setting of ours
            env["QEMU_CPU"] = os.environ["QEMU_CPU"]
        return cls(user=entries.get("User", ["root"])[0], env=env, cwd=entries.get("WorkingDirectory", ["/"])[0],
                   pre=[shlex.split(p) for p in entries.get("ExecStartPre", [])],
                   start=shlex.split(entries["ExecStart"][0]))

    def popen(self, argv: list[str], log: Path, as_root: bool = False) -> subprocess.Popen:
        user = None if as_root else self.user
        groups = None if as_root else os.getgrouplist(self.user, pwd.getpwnam(self.user).pw_gid)
        with open(log, "a") as out:
            return subprocess.Popen(argv, env=self.env, cwd=self.cwd, user=user, group=user, extra_groups=groups,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def run_pre(self, log: Path) -> None:
        """ExecStartPre lines: "-" may fail, "+" runs as root (systemd's prefixes)."""
        for argv in self.pre:
            first = argv[0]
            may_fail, as_root = "-" in first[:2], "+" in first[:2]
            argv = [first.lstrip("-+@!:"), *argv[1:]]
            proc = self.popen(argv, log, as_root=as_root)
            if proc.wait(timeout=600) != 0 and not may_fail:
                raise CheckFailed(f"ExecStartPre {argv} failed.\n{tail(log)}")


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def kiosk_status() -> dict | None:
    done = subprocess.run([EVERGREEN, "kiosk", "status"], capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout) if done.returncode == 0 else None


def heard_seconds_of_sound() -> float:
    """Seconds of non-silent 16-bit stereo audio in the afile WAV so far (its header is
    finished only when the player stops, so the samples are read after the header)."""
    raw = HEARD.read_bytes()[44:]
    loud = 0
    for start in range(0, len(raw) - 3, 4 * 441):  # one frame in every 441 (10 ms)
        left = int.from_bytes(raw[start:start + 2], "little", signed=True)
        if abs(left) > 300:
            loud += 1
    return loud / 100.0


def use_afile_output() -> None:
    """No sound card here: the kiosk writes what it would play to a WAV file."""
    text = CONFIG.read_text()
    text = re.sub(r'(?m)^output = .*$', 'output = "afile"', text, count=1)
    text = re.sub(r'(?m)^file = .*$', f'file = "{HEARD}"', text, count=1)
    CONFIG.write_text(text)


def check_catalogue_prepared() -> None:
    """The catalogue was prepared in the installed app (the services cannot write there
    later), not in the checkout the installer was run from."""
    installed = Path("/opt/evergreen/app/content/era/data/songs.prepared.json")
    if not installed.is_file():
        raise CheckFailed(f"{installed} is missing: the kiosk and admin would prepare it at every start")
    if Path("/root/evergreen/content/era/data/songs.prepared.json").exists():
        raise CheckFailed("install.sh wrote the prepared catalogue into the checkout, not the app")
    ok("the song catalogue is prepared inside the installed app")


def check_evdev_with_debian_package() -> None:
    """USB buttons: the kiosk's key reader works with the evdev that apt installed."""
    import evdev

    from kiosk import config
    from kiosk.keys import KeyInput

    posted = []
    keys = KeyInput("off", config.load(CONFIG).buttons, posted.append)
    keys._event(evdev.InputEvent(0, 0, evdev.ecodes.EV_KEY, evdev.ecodes.KEY_SPACE, 1))
    keys._event(evdev.InputEvent(0, 0, evdev.ecodes.EV_KEY, evdev.ecodes.KEY_SPACE, 0))
    if [(e.button, e.pressed) for e in posted] != [("play", True), ("play", False)]:
        raise CheckFailed(f"Space did not become a press and release of Play: {posted}")
    ok(f"USB buttons: Space is Play, read through evdev {evdev_version()} from {Path(evdev.__file__).parent}")


def evdev_version() -> str:
    from importlib.metadata import version
    return version("evdev")


def import_songs(songs: Path, timings: dict[str, str]) -> None:
    evergreen("residents", "add", RESIDENT, "--birth-year", "1938")
    files = sorted(p for p in songs.iterdir() if p.is_file())
    formats = set()
    for song in files:
        started = time.monotonic()
        done = evergreen("import", "--resident", RESIDENT, str(song))
        took = time.monotonic() - started
        if "added" not in done.stdout:
            raise CheckFailed(f"{song.name} was not added:\n{done.stdout}{done.stderr}")
        formats.add(song.suffix)
        timings[f"import {song.name}"] = f"{took:.1f} s"
    listed = json.loads(evergreen("songs", "list", "--resident", RESIDENT, "--json").stdout)
    if len(listed) != len(files) or len(formats) < 3:
        raise CheckFailed(f"expected {len(files)} songs in 3 formats, the library has: {listed}")
    years = {s.get("title"): s.get("year") for s in listed}
    ok(f"content import added {len(files)} songs in {len(formats)} formats ({', '.join(sorted(formats))}); years: {years}")


def check_kiosk(timings: dict[str, str]) -> None:
    use_afile_output()
    HEARD.unlink(missing_ok=True)
    unit = Unit.read("evergreen-kiosk.service")
    log = LOG_DIR / "kiosk.log"
    log.write_text("")
    started = time.monotonic()
    unit.run_pre(log)
    kiosk = unit.popen(unit.start, log)
    try:
        answer = wait_for(kiosk_status, 180, "the kiosk answering `evergreen kiosk status`", kiosk, log)
        timings["kiosk start (to answering status)"] = f"{time.monotonic() - started:.1f} s"
        if answer.get("state") == "playing":
            raise CheckFailed(f"the kiosk started playing by itself: {answer}")
        ok(f"the kiosk answers status: state {answer.get('state')}, resident {answer.get('resident')}")

        pressed = time.monotonic()
        evergreen("kiosk", "press", "play")

        def playing():
            now = kiosk_status()
            return now if now and now.get("state") == "playing" else None
        now = wait_for(playing, 60, "the kiosk playing after `press play`", kiosk, log)
        timings["press play to playing"] = f"{time.monotonic() - pressed:.1f} s"
        wait_for(lambda: HEARD.exists() and heard_seconds_of_sound() >= 2.0, 60,
                 "two seconds of sound in the kiosk's output", kiosk, log)
        ok(f"press play: playing {now['song']['title']!r}, and the output has sound in it")
        if "GPIO" not in log.read_text():
            raise CheckFailed(f"the kiosk's log does not say where GPIO stands.\n{tail(log)}")
    finally:
        code = stop(kiosk)
    if code != 0:
        raise CheckFailed(f"the kiosk did not stop cleanly ({code}).\n{tail(log)}")


def check_admin(timings: dict[str, str]) -> None:
    unit = Unit.read("evergreen-admin.service")
    argv = list(unit.start)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = "0"
    log = LOG_DIR / "admin.log"
    log.write_text("")  # this start's lines only: the port is read from here
    started = time.monotonic()
    unit.run_pre(log)
    admin = unit.popen(argv, log)
    try:
        def port():
            found = re.search(r"Serving on http://127\.0\.0\.1:(\d+)", log.read_text())
            return int(found.group(1)) if found else None
        bound = wait_for(port, 180, "the admin saying which port it listens on", admin, log)

        def login_page():
            with urllib.request.urlopen(f"http://127.0.0.1:{bound}/login", timeout=10) as r:
                return (r.status, r.read().decode()) if r.status == 200 else None
        status, body = wait_for(login_page, 120, "the admin answering its login page", admin, log)
        timings["admin start (to answering /login)"] = f"{time.monotonic() - started:.1f} s"
        if 'type="password"' not in body:
            raise CheckFailed("the login page has no password field")
        ok(f"the admin answers its login page on 127.0.0.1:{bound}")
    finally:
        stop(admin)


def main(argv: list[str]) -> int:
    LOG_DIR.mkdir(exist_ok=True)
    timings: dict[str, str] = {}
    try:
        if platform.machine() != "aarch64":
            raise CheckFailed(f"this is {platform.machine()}, not aarch64")
        ok(f"{platform.machine()}, Python {platform.python_version()}, {os_name()}")
        if argv == ["--again"]:
            listed = json.loads(evergreen("songs", "list", "--resident", RESIDENT, "--json").stdout)
            if len(listed) < 3:
                raise CheckFailed(f"the library lost songs: {listed}")
            ok(f"after the reinstall the library still has {RESIDENT}'s {len(listed)} songs")
            return 0
        check_catalogue_prepared()
        check_evdev_with_debian_package()
        import_songs(Path(argv[0]), timings)
        check_kiosk(timings)
        check_admin(timings)
    except CheckFailed as exc:
        print(f"FAIL  {exc}", flush=True)
        return 1
    print("timings (emulated arm64, not a Pi):")
    for what, took in timings.items():
        print(f"  {what:40} {took}")
    return 0


def os_name() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.partition("=")[2].strip('"')
    return "unknown system"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
