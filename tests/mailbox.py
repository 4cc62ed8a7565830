"""A real SMTP server on 127.0.0.1 (aiosmtpd) whose inbox a test reads, and the admin's
settings that send to it."""
from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Iterator


class Inbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"

    def settings(self, public_url: str) -> str:
        """An admin.toml that sends mail here."""
        return (f'public_url = "{public_url}"\n[smtp]\nhost = "127.0.0.1"\nport = {self.port}\n'
                'security = "none"\nsender = "kiosk@home.example"\n')


def free_port() -> int:
    with socket.socket() as probe:         # the controller's own start-up check needs a real free port
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(inbox: Inbox) -> Iterator[Inbox]:
    """The SMTP server running for the length of the block."""
    from aiosmtpd.controller import Controller
    smtp = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    smtp.start()
    try:
        yield inbox
    finally:
        smtp.stop()


def write_settings(data: Path, inbox: Inbox, public_url: str) -> Path:
    path = data / "admin.toml"
    path.write_text(inbox.settings(public_url))
    return path


class HeldInbox(Inbox):
    """An inbox whose server holds each message at DATA until the test releases it, so a test
    can see what happened while the mail server had not yet accepted the message."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        import threading
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        self.holding.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        return await super().handle_DATA(server, session, envelope)
