"""A phone for browser journeys: Debian's Chromium through Playwright at 390×844, the real
admin on waitress, a real kiosk when a page shows what it plays, and the checks every page
must pass (axe-core: no critical or serious violations; touch targets of 48 px), with a
screenshot of each page in test-output/screenshots/."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from axe_playwright_python.sync_playwright import Axe

from content import control
from content.paths import socket_path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
BLOCKING = ("critical", "serious")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def small_targets(page) -> list:
    """Visible links, buttons and fields under 48 px tall (about 16 mm on a phone)."""
    return page.evaluate("""() => [...document.querySelectorAll('a, button, input, textarea, select, summary')]
        .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
        .map(e => [e.textContent.trim() || e.name || e.type, e.getBoundingClientRect().height])
        .filter(([_, h]) => h < 47.5)""")


def axe_problems(page) -> list[str]:
    """axe-core's critical and serious violations on the page as it is now, one line each."""
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in BLOCKING]


def page_problems(page, shot: str, *, scripts: bool = True, targets: bool = True) -> list[str]:
    """What is wrong with the page as it is now (axe-core's critical and serious findings,
    small touch targets), after saving its screenshot as `shot`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    found = axe_problems(page) if scripts else []
    if targets:
        found += [f"touch target under 48 px: {t}" for t in small_targets(page)]
    return found


def check_page(page, shot: str, *, scripts: bool = True, targets: bool = True) -> None:
    """What every page must pass, and its screenshot (named for what it shows). axe-core
    needs the page's JavaScript running (its checks wait on timers): with `scripts=False`
    (a context without JavaScript) the page gets its screenshot and touch-target check only."""
    problems = page_problems(page, shot, scripts=scripts, targets=targets)
    assert problems == [], f"{shot}: {problems}"


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login" not in url)


def poll(check, what: str, deadline_s: float = 20.0):
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def kiosk_status(sock: Path) -> dict | None:
    try:
        return control.status(sock)["status"]
    except control.KioskUnreachable:
        return None


@contextlib.contextmanager
def kiosk(data: Path, resident: str, work: Path) -> Iterator[Path]:
    """The real kiosk (`python -m kiosk run`) for one resident, with silent audio; yields
    its control socket."""
    config = work / "kiosk.toml"
    config.write_text(
        f'resident = "{resident}"\ndata_dir = "{data}"\nshutdown_command = ["true"]\n'
        '[audio]\noutput = "dummy"\n[gpio]\nenabled = "off"\n[keyboard]\ndevices = "off"\n'
        '[volume]\nfade_in_s = 0.1\n')
    log = open(work / "kiosk.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "EVERGREEN_DATA": str(data)})
    sock = socket_path(data)
    try:
        poll(lambda: proc.poll() is not None or kiosk_status(sock), "the kiosk to answer")
        assert proc.poll() is None, (work / "kiosk.log").read_text()
        yield sock
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
