"""Reading a settings file (the kiosk's, the admin's): TOML, with a missing file meaning
the defaults and a broken one a sentence that says which file and why."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read(path: Path, what: str, error: type[Exception]) -> dict[str, Any] | None:
    """The file's settings, or None when there is no file. `what` names it for people
    ("The kiosk settings file"); `error` is the exception to raise when it cannot be used."""
    if not path.exists():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{what} {path} cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}.") from None
