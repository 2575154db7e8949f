"""Issue 16, "Forged administrator" and "Secrets in the log": the server refuses a missing or
known key, `dms up` makes one, compose requires one, and no secret reaches the log."""
from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from dms.db.migrate import upgrade
from dms.db.session import after_commit, session_scope
from dms.errors import ConfigError
from dms.services.container import build_services
from dms.settings import Settings, load_settings
from dms.web.app import create_app
from dms.web.security import ensure_secret_key_file, resolve_secret_key
from tests.ingest.conftest import RecordingDispatcher

REPO = Path(__file__).resolve().parents[2]
SECRETS = {"secret_key": "k" * 40 + "-session-signing", "s3_secret_key": "s3-very-secret-value",
           "smtp_password": "smtp-very-secret-value", "station_token": "station-very-secret"}


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return load_settings(data_dir=tmp_path / "var", _env_file=None, **kw)


@pytest.mark.parametrize("key", ["", "dev-only-change-me", "change-me", "Change-Me-Please",
                                 "test", "short-but-random-Xy7"])
def test_server_refuses_a_missing_published_or_short_key(tmp_path: Path, key: str) -> None:
    settings = _settings(tmp_path, secret_key=key)
    with pytest.raises(ConfigError, match="DMS_SECRET_KEY"):
        create_app(settings, dispatcher=RecordingDispatcher())


def test_debug_mode_allows_a_weak_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, secret_key="", debug=True)
    assert len(resolve_secret_key(settings)) >= 16  # a random per-process key, never ""


def test_dms_up_key_file_is_private_and_used(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    f = ensure_secret_key_file(settings)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    key = f.read_text(encoding="utf-8").strip()
    assert len(key) >= 32 and ensure_secret_key_file(settings).read_text().strip() == key
    assert resolve_secret_key(settings) == key  # `dms serve` on the same data dir uses it


def test_compose_requires_a_key_and_has_no_public_fallback() -> None:
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert "${DMS_SECRET_KEY:?" in compose
    assert "change-me" not in compose
    assert "DMS_SECRET_KEY=" in (REPO / ".env.example").read_text(encoding="utf-8")


def test_secrets_are_secretstr_and_hidden_in_repr(tmp_path: Path) -> None:
    settings = _settings(tmp_path, **SECRETS)
    text = repr(settings) + str(settings) + str(settings.model_dump())
    for value in SECRETS.values():
        assert value not in text
    pg = _settings(tmp_path, database_url="postgresql+psycopg2://dms:db-pw-secret@db/dms",
                   broker_url="redis://:redis-pw-secret@redis:6379/0")
    assert "db-pw-secret" not in repr(pg) and "redis-pw-secret" not in repr(pg)
    assert "db-pw-secret" in pg.database_url  # only the representation is masked


@dataclass
class _Effect:
    """An after-commit effect that holds the settings, as dms's reindex effect does."""

    settings: Settings

    def __call__(self) -> None:
        raise RuntimeError("index unreachable")


def test_failed_after_commit_effect_logs_no_secret(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(tmp_path, **SECRETS)
    upgrade(settings.database_url)
    services = build_services(settings)
    try:
        with caplog.at_level(logging.DEBUG):
            with session_scope(services.sessions) as s:
                after_commit(s, _Effect(settings))
        assert "after-commit effect failed" in caplog.text  # the failure is still reported
        for value in SECRETS.values():
            assert value not in caplog.text
    finally:
        services.close()
