"""The admin's own settings: the address people reach it at, and (optionally) mail.

One TOML file, every key documented in deploy/admin.example.toml: $EVERGREEN_ADMIN_CONFIG,
else /etc/evergreen/admin.toml on an installed box, else admin.toml in the data folder.

Invite and password-reset links are built from `public_url` only, never from the Host or
X-Forwarded-Host header a request carries: a crafted request must not be able to make the
box hand out a link to somebody else's server.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from content import paths, tomlfile
from content.db import LibraryError

CONFIG_ENV = "EVERGREEN_ADMIN_CONFIG"
INSTALLED = Path("/etc/evergreen/admin.toml")
SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password_file: str = ""
    sender: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class SiteConfig:
    public_url: str = ""
    smtp: SmtpConfig = field(default_factory=SmtpConfig)

    def link(self, path: str) -> str:
        """An address to hand to someone: the public address followed by `path`."""
        if not self.public_url:
            raise LibraryError("The admin's public address is not set, so no link can be made. "
                               "Set public_url in the admin's settings file (see admin.example.toml).")
        return self.public_url + "/" + path.lstrip("/")


def config_path(data: Path | None = None) -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).absolute()
    if INSTALLED.exists():
        return INSTALLED
    return (data or paths.data_dir()) / "admin.toml"


def load(path: str | Path | None = None) -> SiteConfig:
    """The settings at `path` (default: config_path()); a missing file gives the defaults."""
    path = Path(path) if path is not None else config_path()
    raw = tomlfile.read(path, "The admin settings file", LibraryError)
    return SiteConfig() if raw is None else from_dict(raw, where=str(path))


def from_dict(raw: dict[str, Any], where: str = "the admin settings") -> SiteConfig:
    known = {f.name for f in dataclasses.fields(SiteConfig)}
    for key in raw:
        if key not in known:
            raise LibraryError(f"{where}: there is no setting called '{key}'.")
    smtp_raw = raw.get("smtp", {})
    if not isinstance(smtp_raw, dict):
        raise LibraryError(f"{where}: [smtp] should be a table of settings.")
    defaults = SmtpConfig()
    smtp_values = {}
    for key, value in smtp_raw.items():
        if not hasattr(defaults, key) or key == "enabled":
            raise LibraryError(f"{where} [smtp]: there is no setting called '{key}'.")
        wanted = type(getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise LibraryError(f"{where} [smtp]: {key} should be {'a number' if wanted is int else 'text in quotes'}.")
        smtp_values[key] = value
    smtp = SmtpConfig(**smtp_values)
    if smtp.security not in SECURITY:
        raise LibraryError(f"{where} [smtp]: security should be one of {', '.join(SECURITY)}.")
    if smtp.enabled and "@" not in smtp.sender:
        raise LibraryError(f"{where} [smtp]: sender should be the email address mail comes from.")
    public_url = raw.get("public_url", "")
    if not isinstance(public_url, str):
        raise LibraryError(f"{where}: public_url should be text in quotes.")
    return SiteConfig(public_url=check_public_url(public_url, where), smtp=smtp)


def check_public_url(url: str, where: str = "public_url") -> str:
    """An http(s) address with a host and nothing after the path: no query, no fragment,
    no user name, no control characters. Returned without a trailing slash."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
            or parts.username or any(ord(c) < 33 or ord(c) == 127 for c in url)):
        raise LibraryError(f"{where}: public_url should be an address like https://music.example.org "
                           "or http://evergreen.local:8080.")
    return url.rstrip("/")
