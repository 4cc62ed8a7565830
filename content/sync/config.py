"""The box's link to its hub: one small file in the data folder, private to the service.

Its presence is what puts a box in hub mode: the box's own admin stays off, the sync agent
runs, and `content import` sends songs to the hub.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from content.db import LibraryError
from content.durable import write_atomic

FILE_NAME = "box.json"


@dataclass(frozen=True)
class BoxLink:
    hub: str                    # https://music.example.org (no trailing slash)
    box_id: int
    credential: str             # "<box id>.<secret>": sent as a bearer token, never logged
    ca_file: str | None = None  # a private CA to trust (Caddy's `tls internal`), else the system's

    @property
    def authorization(self) -> str:
        return f"Bearer {self.credential}"


def path(data: Path) -> Path:
    return data / FILE_NAME


def load(data: Path) -> BoxLink | None:
    p = path(data)
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LibraryError(f"The hub link in {p} cannot be read ({exc}).") from exc
    try:
        return BoxLink(hub=str(raw["hub"]), box_id=int(raw["box_id"]), credential=str(raw["credential"]),
                       ca_file=raw.get("ca_file"))
    except (KeyError, TypeError, ValueError) as exc:
        raise LibraryError(f"The hub link in {p} is incomplete.") from exc


def save(data: Path, link: BoxLink) -> None:
    """Written whole (temporary file, fsync, rename), readable by the service user only."""
    data.mkdir(parents=True, exist_ok=True)
    write_atomic(path(data), json.dumps(asdict(link)), mode=0o600)


def in_hub_mode(data: Path) -> bool:
    return path(data).exists()
