"""Where Evergreen keeps its data: the one place every default path comes from.

On a Raspberry Pi the services set EVERGREEN_DATA=/var/lib/evergreen; under `make run`
and in a checkout the data lives in ./var.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "EVERGREEN_DATA"
CONFIG_ENV = "EVERGREEN_CONFIG"
PI_CONFIG = Path("/etc/evergreen/kiosk.toml")
DB_NAME = "library.db"
MEDIA_NAME = "media"
SOCKET_NAME = "kiosk.sock"


def data_dir() -> Path:
    """The data folder: $EVERGREEN_DATA, else ./var under the current directory."""
    return Path(os.environ.get(DATA_ENV) or "var").absolute()


def db_path(data: Path | None = None) -> Path:
    return (data or data_dir()) / DB_NAME


def media_dir(data: Path | None = None) -> Path:
    return (data or data_dir()) / MEDIA_NAME


def socket_path(data: Path | None = None) -> Path:
    """The kiosk's control socket, which the CLI and the admin's panel talk to."""
    return (data or data_dir()) / SOCKET_NAME


def config_path() -> Path:
    """The kiosk's config: $EVERGREEN_CONFIG, else /etc/evergreen/kiosk.toml on an
    installed appliance, else kiosk.toml in the data folder."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).absolute()
    if PI_CONFIG.exists():
        return PI_CONFIG
    return data_dir() / "kiosk.toml"
