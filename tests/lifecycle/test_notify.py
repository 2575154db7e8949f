"""The SMTP notifier against a real (local, in-process) SMTP server; the registry."""
from __future__ import annotations

import socket
import threading
import warnings
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest

from dms.errors import ConfigError
from dms.services.notify import LogNotifier, Notice, SmtpNotifier, make_notifier
from dms.settings import load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd  # Python 3.11's own SMTP server: enough to receive real mail in a test


class _Inbox(smtpd.SMTPServer):
    def __init__(self, addr: tuple[str, int]) -> None:
        super().__init__(addr, None, decode_data=False)  # type: ignore[arg-type]
        self.received: list[tuple[str, list[str], bytes]] = []
        self.port = addr[1]

    def process_message(self, peer: Any, mailfrom: str, rcpttos: list[str], data: Any,
                        **kwargs: Any) -> None:
        self.received.append((mailfrom, rcpttos, bytes(data)))


@pytest.fixture
def smtp_server() -> Iterator[_Inbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _Inbox(("127.0.0.1", port))
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.05}, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(5)


def test_smtp_notifier_mails_each_recipient(smtp_server: _Inbox, tmp_path: Path) -> None:
    port = smtp_server.port
    settings = load_settings(data_dir=tmp_path, notifier="smtp", smtp_host="127.0.0.1",
                             smtp_port=port, smtp_starttls=False, smtp_sender="dms@example.cn",
                             _env_file=None)
    notifier = make_notifier(settings)
    assert isinstance(notifier, SmtpNotifier)
    sent = notifier.send([Notice("h1", "h1@example.cn", "[档案催办] 1 项档案工作已超期",
                                 "第1次催办：YK2026000001"),
                          Notice("h2", "", "no address", "skipped")])
    assert sent == 1
    (mailfrom, rcpt, data), = smtp_server.received
    assert (mailfrom, rcpt) == ("dms@example.cn", ["h1@example.cn"])
    msg = message_from_bytes(data)
    assert str(make_header(decode_header(msg["Subject"]))) == "[档案催办] 1 项档案工作已超期"
    body = msg.get_payload(decode=True)
    assert isinstance(body, bytes) and "YK2026000001" in body.decode("utf-8")


def test_registry_defaults_to_log_and_rejects_unknown(tmp_path: Path) -> None:
    assert isinstance(make_notifier(load_settings(data_dir=tmp_path, _env_file=None)),
                      LogNotifier)
    with pytest.raises(ConfigError, match="pigeon"):
        make_notifier(load_settings(data_dir=tmp_path, notifier="pigeon", _env_file=None))
    with pytest.raises(ConfigError, match="DMS_SMTP_HOST"):
        make_notifier(load_settings(data_dir=tmp_path, notifier="smtp", _env_file=None))
