"""Login throttling per account and per client address, counted in the database so that
all gunicorn workers and web machines share the count (issue 16: 30 wrong passwords in 10 s,
then the right one worked).

Failures are counted by the name as typed, whether or not the account exists, so that the
throttle itself does not tell which names exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dms.db.models_security import LoginFailure
from dms.db.session import session_scope
from dms.errors import TooManyAttemptsError

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # failures of one account name within WINDOW, from anywhere
ADDRESS_LIMIT = 20  # failures from one address within WINDOW, any account names


def _key(username: str) -> str:
    return username.strip().lower()[:64]


def begin_attempt(sessions: sessionmaker[Session], username: str, address: str,
                  now: datetime) -> int:
    """Count this attempt as a failure *before* the password is checked, committed at once,
    then refuse it if earlier attempts already reach a limit. Checked first and written
    after, N parallel requests all passed the check before any failure was written, so an
    attacker got N guesses instead of five. Returns the attempt's id for ``succeeded``."""
    key, addr = _key(username), address[:64]
    with session_scope(sessions) as s:
        # Rows older than the window count for nothing: drop them as new ones arrive.
        if s.get_bind().dialect.name == "postgresql":
            # Attempts on one account or from one address commit in the order of their ids,
            # so "the attempts before mine" are all visible when counted. (SQLite commits
            # one writer at a time anyway.) Account lock first, always: no lock cycle.
            s.execute(text("SELECT pg_advisory_xact_lock(1, hashtext(:k)), "
                           "pg_advisory_xact_lock(2, hashtext(:a))"), {"k": key, "a": addr})
        s.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
        attempt = LoginFailure(username=key, address=addr, at=now)
        s.add(attempt)
        s.flush()
        attempt_id = attempt.id
    since = now - WINDOW
    with session_scope(sessions) as s:
        earlier = (LoginFailure.at > since, LoginFailure.id < attempt_id)
        by_account = s.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.username == key, *earlier)) or 0
        by_address = s.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.address == addr, *earlier)) or 0
        if by_account < ACCOUNT_LIMIT and by_address < ADDRESS_LIMIT:
            return attempt_id
        # Refused before any password was checked: not a guess, so it does not count.
        s.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    minutes = int(WINDOW.total_seconds() // 60)
    raise TooManyAttemptsError(
        f"登录失败次数过多，请 {minutes} 分钟后再试 / too many failed logins, try again in "
        f"{minutes} minutes", field="username" if by_account >= ACCOUNT_LIMIT else None)


def succeeded(session: Session, username: str) -> None:
    """A successful login forgets the account's failures, its own attempt among them (not
    the address's other failures)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
