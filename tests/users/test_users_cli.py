"""`dms users create --email`: the address the SMTP notifier mails urges and escalations to."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dms.cli import cli
from dms.db.migrate import upgrade
from dms.db.models import User
from dms.errors import InvalidInputError

PASSWORD = "users-cli-pw-1"


def run(tmp_path: Path, *args: str) -> Result:
    env = {"DMS_DATA_DIR": str(tmp_path / "var"), "DMS_SECRET_KEY": "users" * 32}
    return CliRunner().invoke(cli, ["users", "create", *args, "--password", PASSWORD], env=env)


def saved(tmp_path: Path, username: str) -> User:
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'dms.sqlite'}")
    try:
        with Session(engine) as s:
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None
            s.expunge(user)
            return user
    finally:
        engine.dispose()


def test_create_team_leader_with_email(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path / 'var' / 'dms.sqlite'}")
    res = run(tmp_path, "lead", "--role", "handler", "--team", "YYB", "--team-leader",
              "--email", " lead@example.com ")
    assert res.exit_code == 0, res.output
    lead = saved(tmp_path, "lead")
    assert (lead.email, lead.is_team_leader) == ("lead@example.com", True)
    res = run(tmp_path, "h1", "--role", "handler", "--team", "YYB")
    assert res.exit_code == 0, res.output
    assert (saved(tmp_path, "h1").email, saved(tmp_path, "h1").is_team_leader) == ("", False)


def test_a_mistyped_email_is_refused_and_nothing_is_saved(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path / 'var' / 'dms.sqlite'}")
    res = run(tmp_path, "lead", "--role", "handler", "--email", "lead.example.com")
    assert isinstance(res.exception, InvalidInputError)  # main() turns it into exit code 2
    assert "not an e-mail address" in res.exception.message
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'dms.sqlite'}")
    with Session(engine) as s:
        assert s.scalar(select(User).where(User.username == "lead")) is None
    engine.dispose()
