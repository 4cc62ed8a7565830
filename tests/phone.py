"""A phone for browser journeys: Debian's Chromium through Playwright at 390×844 against the
real admin on waitress, and the checks every page must pass (axe-core: no critical or serious violations; touch targets of 48 px), with a
screenshot of each page in test-output/screenshots/."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
BLOCKING = ("critical", "serious")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def served(app):
    """`app` on the real server (waitress, 127.0.0.1, a free port) and one Chromium, for a
    whole module's browser tests: yields (base address, browser)."""
    from playwright.sync_api import sync_playwright

    from content.web.__main__ import make_server
    srv = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                yield f"http://127.0.0.1:{srv.effective_port}", browser
            finally:
                browser.close()
    finally:
        srv.close()
        thread.join(5)


def small_targets(page) -> list:
    """Visible links, buttons and fields under 48 px tall (about 16 mm on a phone). A tick box
    or choice inside its label is tapped anywhere on the label, so the label is measured."""
    return page.evaluate("""() => [...document.querySelectorAll('a, button, input, textarea, select, summary')]
        .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
        .map(e => [e.textContent.trim() || e.name || e.type,
                   ((e.type === 'checkbox' || e.type === 'radio') && e.closest('label') || e).getBoundingClientRect().height])
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


def pages_for(app, who: str, values: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every HTML page of `app` a person in this role ("staff", "family" or "nobody") may
    open, as (name, address), with the address's numbers taken from `values`. Pages that
    need a number not in `values`, that only answer boxes (hub mode's channel), or that are
    in `skip` (files, parts of pages) are left out."""
    from flask import url_for
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access", None)
        if ("GET" not in rule.methods or rule.endpoint in skip or access in ("box", "pairing")
                or set(rule.arguments) - set(values)):
            continue
        if who == "family" and access in ("staff", "staff_resident"):
            continue
        if (access == "public") != (who == "nobody"):
            continue
        with app.test_request_context():
            found.append((rule.endpoint.replace(".", "-").replace("_", "-"),
                          url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})))
    return sorted(found)
