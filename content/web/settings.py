"""The admin's settings: where the library is, upload limits, cookies and CSRF, and the
key that signs sessions; and the data folder made ready before the first request."""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from content import accounts, paths, site
from content.upload_pieces import PIECE_BYTES
from content.db import connect
from content.durable import write_atomic
from content.web.request_scope import clear_upload_tmp

log = logging.getLogger("evergreen.admin")

DEFAULT_MAX_UPLOAD_MB = 300
DEFAULT_HUB_THREADS = 256   # mostly boxes waiting: an idle thread costs little memory and no CPU
PAGE_THREADS = 16           # on a hub, threads kept for people's pages: boxes wait on the rest


def secret_key(data: Path) -> str:
    """A key kept in the data folder, so sessions survive a restart of the admin."""
    key_file = data / "admin_secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    # First writer wins: a second admin starting at once reads the same key.
    write_atomic(key_file, secrets.token_hex(32), mode=0o600, exclusive=True)
    return key_file.read_text().strip()


def admin_config(test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flask's config for the admin: the defaults, then `test_config` over them."""
    cfg = dict(test_config or {})
    data = Path(cfg.get("DATA_DIR") or paths.data_dir())
    data.mkdir(parents=True, exist_ok=True)
    max_upload = int(cfg.get("MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    config: dict[str, Any] = dict(
        DATA_DIR=data,
        DB_PATH=Path(cfg.get("DB_PATH") or paths.db_path(data)),
        MEDIA_DIR=Path(cfg.get("MEDIA_DIR") or paths.media_dir(data)),
        SOCKET_PATH=Path(cfg.get("SOCKET_PATH") or paths.socket_path(data)),
        UPLOAD_TMP=data / "upload-tmp",
        MAX_UPLOAD_BYTES=max_upload,
        # No request carries more than one piece of a song (or one small song in a plain
        # form), plus a little for the form around it; anything past this is refused unread.
        MAX_CONTENT_LENGTH=min(max_upload, PIECE_BYTES) + 256 * 1024,
        MIN_SONG_SECONDS=None,
        PAGE_SIZE=100,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Two weeks without a visit and the phone must log in again: a family member who
        # comes back often stays in, a phone that was lost or handed on does not for long.
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
        WTF_CSRF_TIME_LIMIT=None,   # a family member may leave the page open for hours
        # The token is checked in guard.check_access, after we know who is asking, so an
        # anonymous upload is turned away before its body is read.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    config.update({k: v for k, v in cfg.items() if k not in ("DATA_DIR", "MAX_UPLOAD_BYTES")})
    # The one place the public address is read: links handed to people are built from it.
    site_config = cfg.get("SITE") or site.load(site.config_path(data))
    config["SITE"] = site_config
    config["PUBLIC_URL"] = site.check_public_url(cfg.get("PUBLIC_URL", site_config.public_url))
    https_settings(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_key(data)
    return config


def https_settings(config: dict[str, Any]) -> None:
    """Behind HTTPS (a hub's public address): cookies only over HTTPS, HSTS (hooks), and
    only requests naming this host answered."""
    parts = urlsplit(config.get("PUBLIC_URL") or "")
    if parts.scheme == "https" and parts.hostname:
        config["SESSION_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
        config["TRUSTED_HOSTS"] = config.get("TRUSTED_HOSTS") or [parts.hostname]


def prepare_data(config: dict[str, Any]) -> None:
    """Before the first request: the media folder exists, a killed upload's leftovers are
    gone, the library is migrated, and a first-run setup code is logged when no staff
    account exists yet."""
    config["MEDIA_DIR"].mkdir(parents=True, exist_ok=True)
    clear_upload_tmp(config["UPLOAD_TMP"])
    db = connect(config["DB_PATH"])  # applies migrations once, at start
    try:
        if not accounts.has_staff(db):
            code = accounts.new_setup_code(db)
            log.warning("No staff account yet. Open /setup in a browser and enter this one-time code: %s", code)
    finally:
        db.close()
