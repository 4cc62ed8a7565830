"""Sending an invite or a password-reset link by email, when the admin's settings name an
SMTP server. Without one, staff copy the link or show it as a QR code instead."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

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
