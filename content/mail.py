"""Sending an invite or a password-reset link by email, when the admin's settings name an
SMTP server. Without one, staff copy the link or show it as a QR code instead.

`send` waits for the mail server, for staff who are told whether it went. `Postbox` sends
in the background, for answers that must not wait on it: the "forgot your password" page
answers a stranger the same way, at the same speed, whether or not the account exists."""
from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from content.db import LibraryError
from content.site import SmtpConfig

TIMEOUT_S = 20


class MailNotSent(LibraryError):
    """The mail could not be sent; the message says why, and the link still works."""


def send(smtp: SmtpConfig, to: str, subject: str, body: str) -> None:
    if not smtp.enabled:
        raise MailNotSent("Email is not set up on this box; copy the link or show its QR code instead.")
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        password = Path(smtp.password_file).read_text().strip() if smtp.password_file else ""
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_S,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"The email could not be sent ({exc}); copy the link or show its QR code instead.") from None


log = logging.getLogger("evergreen.mail")


@dataclass(frozen=True)
class _Letter:
    smtp: SmtpConfig
    to: str
    subject: str
    body: str
    failed: str              # what to log if it cannot be sent


class Postbox:
    """One thread that sends queued mail, one message at a time, started with the first.
    A message that cannot be sent is logged (without its body: it holds a link) and dropped;
    the person can ask again."""

    def __init__(self, send_one: Callable[[SmtpConfig, str, str, str], None] = send) -> None:
        self._send = send_one
        self._queue: queue.Queue[_Letter] = queue.Queue()
        self._lock = threading.Condition()
        self._unsent = 0
        self._thread: threading.Thread | None = None

    def post(self, smtp: SmtpConfig, to: str, subject: str, body: str, *, failed: str) -> None:
        with self._lock:
            self._unsent += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="postbox", daemon=True)
                self._thread.start()
        self._queue.put(_Letter(smtp, to, subject, body, failed))

    def idle(self, timeout: float) -> bool:
        """Wait until everything posted was sent or given up; False if still sending."""
        with self._lock:
            return self._lock.wait_for(lambda: self._unsent == 0, timeout)

    def _run(self) -> None:
        while True:
            letter = self._queue.get()
            try:
                self._send(letter.smtp, letter.to, letter.subject, letter.body)
            except MailNotSent as exc:
                log.warning("%s: %s", letter.failed, exc)
            except Exception:
                log.exception("%s", letter.failed)
            finally:
                with self._lock:
                    self._unsent -= 1
                    self._lock.notify_all()
