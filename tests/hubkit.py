"""Shared pieces for hub tests: a real hub (the admin in hub mode, served by waitress on
127.0.0.1), and boxes with their own library folders that join it and run the real sync
agent."""
from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from content import accounts, cli, ingest, library
from content.db import connect
from content.hub import boxes, homes
from content.sync import config
from content.sync.agent import Agent, AgentSettings
from content.web import create_app
from content.web.__main__ import make_server
from tests.audio import write_song

STAFF_PW = "staff-password-1"


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll until `check()` is truthy, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout} s: {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Caddy:
    """A real Caddy (Debian's package) with `tls internal` on 127.0.0.1 in front of a hub:
    its own certificate authority, its own free ports, nothing outside `folder`."""

    def __init__(self, folder: Path, upstream_port: int, https_port: int | None = None) -> None:
        caddy = shutil.which("caddy")
        assert caddy, "caddy is installed by make setup-test"
        https_port, http_port = https_port or free_port(), free_port()
        self.public = f"https://127.0.0.1:{https_port}"
        home = folder / "caddy-home"
        home.mkdir(parents=True, exist_ok=True)
        conf = folder / "Caddyfile"
        conf.write_text(f"""{{
	admin off
	skip_install_trust
	http_port {http_port}
	https_port {https_port}
	storage file_system {home}/storage
}}

127.0.0.1:{https_port} {{
	tls internal
	reverse_proxy 127.0.0.1:{upstream_port} {{
		header_up X-Forwarded-For {{remote_host}}
	}}
}}
""")
        env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
        self.proc = subprocess.Popen([caddy, "run", "--config", str(conf), "--adapter", "caddyfile"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(folder / "caddy.log", "w"))
        self.root = home / "storage" / "pki" / "authorities" / "local" / "root.crt"
        try:
            wait_for(self.root.exists, 30, "Caddy made its own certificate authority")
            self.ssl = ssl.create_default_context(cafile=str(self.root))
            wait_for(self._answers, 30, "the hub answers through Caddy over HTTPS", every=0.2)
        except BaseException:
            self.close()
            raise

    def _answers(self) -> bool:
        import urllib.request
        try:
            return urllib.request.urlopen(self.public + "/login", context=self.ssl, timeout=5).status == 200
        except OSError:
            return False

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()        # Caddy waits for held connections before it exits
            self.proc.wait(5)


@dataclass
class Hub:
    data: Path
    url: str = ""
    app: Any = None
    server: Any = None
    thread: threading.Thread | None = None
    db: sqlite_utils.Database | None = None
    port: int = 0

    @property
    def media(self) -> Path:
        return self.data / "media"

    def start(self, **config: Any) -> "Hub":
        cfg = {"DATA_DIR": self.data, "SECRET_KEY": "hub-test", "MIN_SONG_SECONDS": 1.0, "HUB": True,
               "THREADS": 24, "MAX_UPLOAD_BYTES": 16 * 1024 * 1024}
        cfg.update(config)
        self.app = create_app(cfg)
        self.server = make_server(self.app, "127.0.0.1", self.port, threads=cfg["THREADS"])
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        if self.db is None:
            self.db = connect(self.data / "library.db")
        return self

    def stop(self) -> None:
        if self.server is not None:
            watch = self.app.extensions["evergreen.watch"]
            watch.close()
            # Let the waiting polls answer before the server goes: like a service stopping.
            wait_for(lambda: not watch.waiting_boxes(), 5, "the waiting polls answered")
            self.server.close()
            self.thread.join(5)
            self.server = None

    def close(self) -> None:
        self.stop()
        if self.db is not None:
            self.db.close()

    # ---- what staff do on the hub, through the same rules the pages use -------------------

    def home(self, name: str) -> homes.Home:
        return homes.add_home(self.db, name)

    def resident(self, name: str, home: homes.Home, birth_year: int = 1938) -> library.Resident:
        r = library.add_resident(self.db, name, birth_year=birth_year)
        homes.set_resident_home(self.db, r.id, home.id)
        return library.get_resident(self.db, r.id)

    def song(self, resident: library.Resident, freq: float, title: str, *, seconds: float = 2.0,
             folder: Path | None = None) -> int:
        path = write_song((folder or self.data) / f"{title}.wav", freq, seconds,
                          tags={"title": title, "artist": "Test Band"})
        result = ingest.ingest_file(self.db, self.media, path, resident_id=resident.id, min_seconds=1.0)
        assert result.status in ("added", "duplicate"), result.reason
        path.unlink()
        return result.song_id

    def box(self, home: homes.Home, name: str, residents: list[library.Resident]) -> tuple[boxes.Box, str]:
        box = boxes.add_box(self.db, home.id, name)
        boxes.assign(self.db, box.id, [r.id for r in residents])
        return box, boxes.new_pairing_code(self.db, box.id)

    def staff(self, email: str = "staff@group.example") -> accounts.User:
        return accounts.create_user(self.db, email, STAFF_PW, "staff")


@dataclass
class Box:
    data: Path
    agent: Agent | None = None
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = connect(self.data / "library.db")
        return self._db

    @property
    def media(self) -> Path:
        return self.data / "media"

    def join(self, hub_url: str, code: str, ca_file: str | None = None) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        args = ["join", hub_url, code, "--db", str(self.data / "library.db")]
        if ca_file:
            args += ["--ca-file", ca_file]
        import contextlib
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(args)
        return status, out.getvalue() + err.getvalue()

    def settings(self, **kw: Any) -> AgentSettings:
        link = config.load(self.data)
        assert link is not None
        s = AgentSettings(data=self.data, db_path=self.data / "library.db", media_dir=self.media,
                          socket_path=self.data / "kiosk.sock", link=link, wait_s=20, send_every_s=0.2,
                          backoff_s=(0.1, 0.2, 0.5, 1.0))
        for k, v in kw.items():
            setattr(s, k, v)
        return s

    def start_agent(self, **kw: Any) -> Agent:
        self.agent = Agent(self.settings(**kw))
        self.agent.start()
        return self.agent

    def stop_agent(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def close(self) -> None:
        self.stop_agent()
        if self._db is not None:
            self._db.close()

    def songs(self, resident_id: int) -> list[library.ResidentSong]:
        return library.resident_songs(self.db, resident_id)

    def files(self) -> set[str]:
        return {p.name for p in self.media.iterdir() if p.is_file() and not p.name.startswith(".")} \
            if self.media.exists() else set()
