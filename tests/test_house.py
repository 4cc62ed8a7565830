"""The house rules that keep the code easy to start and to read: importing a module does no
work (no password hash, no migrations found, no files read), and the kiosk and
`content/web/` write no SQL: they ask `content`."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT_EVERYTHING = textwrap.dedent(
    """
    import hashlib, importlib, pkgutil, sys
    def refuse(*a, **k):
        raise AssertionError("a password hash was computed at import time")
    hashlib.scrypt = refuse
    import content, kiosk
    for package in (content, kiosk):
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if m.name.endswith("__main__"):
                continue
            importlib.import_module(m.name)
    from content.migrations import registry
    assert registry.cache_info().currsize == 0, "the migrations were registered at import time"
    print("ok")
    """
)


def test_importing_any_module_does_no_work():
    out = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_kiosk_and_the_web_views_write_no_sql_of_their_own():
    """SQL lives in `content`; the kiosk and the admin's views ask its functions."""
    offenders = []
    for path in sorted([*(ROOT / "content" / "web").glob("*.py"), *(ROOT / "kiosk").glob("*.py")]):
        text = path.read_text(encoding="utf-8")
        for word in ("db.execute(", "db.query(", ".execute(\"", "SELECT ", "UPDATE ", "INSERT ", "DELETE FROM"):
            if word in text:
                offenders.append(f"{path.relative_to(ROOT)}: {word.strip()}")
    assert not offenders, "SQL outside content (move it into a content module):\n" + "\n".join(offenders)
