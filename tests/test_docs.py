"""The README stays honest because the code drives these checks (as sqlite-utils' docs tests
do): every command of `python -m content` and `python -m kiosk` is shown, every package
and module is placed in the Layout section, and the first screen says what Evergreen is
and how to run and test it. When one fails, its message says what to add and where."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from content.cli import build_parser as content_parser
from kiosk.cli import build_parser as kiosk_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGES = ("content", "kiosk")
FIRST_SCREEN_LINES = 24
_MIGRATION = re.compile(r"^m\d{4}_")


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    """Every runnable command line, subcommands included: 'python -m content residents add'."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                out += nested or [f"{prefix} {name}"]
    return out


def _all_commands() -> list[str]:
    return _commands(content_parser(), "python -m content") + _commands(kiosk_parser(), "python -m kiosk")


@pytest.mark.parametrize("command", _all_commands())
def test_every_command_is_in_the_readme(command):
    assert command in README, (
        f"README.md does not show `{command}`. Add an example of it to the engineers' part "
        f"(\"The library command line\" or \"The kiosk\"), written exactly like that.")


def _layout() -> str:
    start = README.index("### Layout")
    following = re.search(r"^#{1,3} ", README[start + 4:], re.M)
    return README[start:start + 4 + following.start()] if following else README[start:]


def _bullets(layout: str) -> dict[str, str]:
    """package path ('content/web/') -> the text of its bullet, sub-bullets of modules included."""
    out: dict[str, str] = {}
    current = None
    for line in layout.splitlines():
        m = re.match(r"^\s*- `([\w/]+/)`", line)
        if m:
            current = m.group(1)
            out[current] = ""
        if current is not None:
            out[current] += line + "\n"
    return out


def _modules() -> list[tuple[str, str]]:
    """(package path, module file name) for every package and module we ship."""
    found = []
    for top in PACKAGES:
        for init in sorted((ROOT / top).rglob("__init__.py")):
            package = init.parent
            path = f"{package.relative_to(ROOT).as_posix()}/"
            found.append((path, ""))
            for module in sorted(package.glob("*.py")):
                if module.name != "__init__.py" and not _MIGRATION.match(module.name):
                    found.append((path, module.name))
    return found


@pytest.mark.parametrize("package, module", _modules(), ids=lambda v: v or "package")
def test_every_package_and_module_is_in_the_layout(package, module):
    bullets = _bullets(_layout())
    assert package in bullets, (
        f"README.md's Layout section has no bullet for the package {package}. Add a line "
        f"`- \\`{package}\\` — what it owns`, with each of its modules named in it.")
    if module:
        assert f"`{module}`" in bullets[package], (
            f"README.md's Layout section does not name {package}{module}. Add `{module}` and a few "
            f"words on what it owns to the `{package}` bullet.")


def test_the_first_screen_says_what_evergreen_is_and_how_to_run_and_test_it():
    first = "\n".join(README.splitlines()[:FIRST_SCREEN_LINES])
    assert "dementia" in first and "music" in first
    assert "make run" in first and "make test" in first
    for part in ("## For care staff", "## For families", "## Build your own", "## For engineers"):
        assert part in README
    assert README.index("## For care staff") < README.index("## For families") < README.index("## For engineers")
