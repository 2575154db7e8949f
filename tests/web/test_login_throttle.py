"""Issue 16, "No login throttling": 30 wrong passwords in 10 s, then the right one worked;
the response time told which names exist. And the password policy."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from dms.db.session import session_scope
from dms.errors import InvalidInputError
from dms.services import login_throttle, users
from dms.services.passwords import check_password
from tests.web.conftest import PASSWORD, Web, csrf_token


def _try(client: FlaskClient, username: str, password: str, addr: str = "10.0.0.1") -> int:
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr}).status_code


def test_account_is_throttled_after_five_failures(web: Web) -> None:
    c = web.client()
    for _ in range(login_throttle.ACCOUNT_LIMIT):
        assert _try(c, "arch", "wrong-password-x") == 401
    # The right password no longer works for this account, from any address...
    assert _try(c, "arch", PASSWORD) == 429
    assert _try(web.client(), "arch", PASSWORD, addr="10.9.9.9") == 429
    # ...while other accounts are not locked out by it.
    assert _try(web.client(), "boss", PASSWORD, addr="10.9.9.9") == 302


def test_address_is_throttled_across_account_names(web: Web) -> None:
    c = web.client()
    for i in range(login_throttle.ADDRESS_LIMIT):
        assert _try(c, f"guess{i}", "wrong-password-x", addr="10.1.1.1") == 401
    assert _try(c, "boss", PASSWORD, addr="10.1.1.1") == 429  # this address is blocked
    assert _try(c, "boss", PASSWORD, addr="10.1.1.2") == 302  # another is not


def test_unknown_names_cost_a_real_scrypt_verification(web: Web) -> None:
    """Same work for unknown and known names (figures: benchmarks/login_throttle.py)."""
    dummy = users._dummy_hash()
    real = generate_password_hash("x" * 12)
    assert dummy.split("$")[0] == real.split("$")[0]  # same method and cost parameters
    with web.services.sessions() as s:
        assert users.authenticate(s, "nobody", PASSWORD) is None


@pytest.mark.parametrize("password", ["short-1", "password123", "1q2w3e4r5t", "aaaaaaaaaaaa",
                                      "woaini1314", "arch-and-more"])
def test_password_policy(password: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        check_password(password, username="arch")
    assert err.value.field == "password"


def test_policy_applies_to_create_user_and_the_cli(web: Web) -> None:
    with session_scope(web.services.sessions) as s, pytest.raises(InvalidInputError):
        users.create_user(s, "weak", "qwerty123", "handler")
    from dms.cli import cli

    env = {"DMS_DATA_DIR": str(web.settings.data_dir),
           "DMS_DATABASE_URL": web.settings.database_url}
    r = CliRunner(env=env).invoke(cli, ["users", "create", "weak2", "--role", "handler",
                                        "--password", "12345678"])
    assert r.exit_code != 0 and "密码" in str(r.exception or r.output)
    check_password("correct horse battery staple")  # a passphrase passes


def test_cli_password_change_applies_policy_and_ends_sessions(web: Web) -> None:
    from dms.cli import cli
    from dms.db.models import User

    env = {"DMS_DATA_DIR": str(web.settings.data_dir),
           "DMS_DATABASE_URL": web.settings.database_url}
    runner = CliRunner(env=env)
    r = runner.invoke(cli, ["users", "password", "arch", "--password", "password123"])
    assert r.exit_code != 0
    with web.services.sessions() as s:
        before = s.query(User).filter_by(username="arch").one().session_version
    r = runner.invoke(cli, ["users", "password", "arch", "--password", "a-long-new-passphrase"])
    assert r.exit_code == 0, r.output
    with web.services.sessions() as s:
        assert s.query(User).filter_by(username="arch").one().session_version == before + 1


def test_parallel_guesses_get_no_more_than_the_limit(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Checked first and written after, 12 parallel wrong passwords all passed the check
    before any failure was written. Counted first, at most ACCOUNT_LIMIT get through."""
    import threading
    from datetime import UTC, datetime

    from dms.errors import TooManyAttemptsError
    from tests.ingest.conftest import make_services

    svc = make_services(tmp_path / "var", database_url=database_url)
    barrier, allowed, refused = threading.Barrier(12), [], []

    def guess() -> None:
        barrier.wait()
        try:
            allowed.append(login_throttle.begin_attempt(svc.sessions, "arch", "10.0.0.7",
                                                        datetime.now(UTC)))
        except TooManyAttemptsError:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == login_throttle.ACCOUNT_LIMIT and len(refused) == 7
    svc.close()
