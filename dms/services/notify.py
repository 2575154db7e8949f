"""Pluggable notifiers for urges (催办): a log notifier by default, e-mail over SMTP for real.

A notifier receives one ``Notice`` per recipient per sweep (a digest of that person's
urges), so a sweep over many overdue items sends one mail per person, not thousands.
Implementations are registered by name; ``DMS_NOTIFIER`` picks one.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from dms.errors import ConfigError
from dms.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    username: str
    email: str
    subject: str
    body: str


class Notifier(Protocol):
    def send(self, notices: list[Notice]) -> int:
        """Deliver the notices; returns how many were delivered."""
        ...


class LogNotifier:
    """Writes each notice to the log (``dms.notify``): the embedded default."""

    def __init__(self, settings: Settings) -> None:
        self.log = logging.getLogger("dms.notify")

    def send(self, notices: list[Notice]) -> int:
        for n in notices:
            self.log.info("urge to %s <%s>: %s\n%s", n.username, n.email or "-", n.subject,
                          n.body)
        return len(notices)


class SmtpNotifier:
    """Mails each notice through one SMTP connection per batch (STARTTLS and login
    when configured). Recipients without an e-mail address are logged and skipped."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ConfigError("the smtp notifier needs a server", hint="set DMS_SMTP_HOST")
        self.settings = settings

    def send(self, notices: list[Notice]) -> int:
        s = self.settings
        deliverable = [n for n in notices if n.email]
        for n in notices:
            if not n.email:
                log.warning("urge for %s not mailed: the user has no e-mail address", n.username)
        if not deliverable:
            return 0
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            for n in deliverable:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = s.smtp_sender, n.email, n.subject
                msg.set_content(n.body)
                smtp.send_message(msg)
        return len(deliverable)


NOTIFIERS: dict[str, Callable[[Settings], Notifier]] = {
    "log": LogNotifier,
    "smtp": SmtpNotifier,
}


def register_notifier(name: str, factory: Callable[[Settings], Notifier]) -> None:
    NOTIFIERS[name] = factory


def make_notifier(settings: Settings) -> Notifier:
    try:
        factory = NOTIFIERS[settings.notifier]
    except KeyError:
        raise ConfigError(f"unknown notifier {settings.notifier!r}",
                          hint="DMS_NOTIFIER is one of: " + ", ".join(NOTIFIERS)) from None
    return factory(settings)
