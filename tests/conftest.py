"""Shared fixtures: settings in a temp dir, throwaway PostgreSQL and Redis servers."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.settings import Settings, load_settings
from dms.testing.postgres import ThrowawayPostgres, ThrowawayRedis


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "var", secret_key="test" * 8,
                         station_token="tok-123456", _env_file=None)


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    with ThrowawayRedis() as r:
        yield r


_db_counter = iter(range(10_000))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test against both databases; each test gets a fresh, empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    pg: ThrowawayPostgres = request.getfixturevalue("postgres")
    return pg.create_database(f"t{next(_db_counter)}")
