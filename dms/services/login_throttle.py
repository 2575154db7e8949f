"""Login throttling per account and per client address, counted in the database so that
all gunicorn workers and web machines share the count (issue 16: 30 wrong passwords in 10 s,
then the right one worked).

Failures are counted by the name as typed, whether or not the account exists, so that the
throttle itself does not tell which names exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dms.db.models_security import LoginFailure
from dms.errors import TooManyAttemptsError

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # failures of one account name within WINDOW, from anywhere
ADDRESS_LIMIT = 20  # failures from one address within WINDOW, any account names


def _key(username: str) -> str:
    return username.strip().lower()[:64]


def check(session: Session, username: str, address: str, now: datetime) -> None:
    """Raise TooManyAttemptsError if this account or address may not try now."""
    since = now - WINDOW
    by_account = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.username == _key(username), LoginFailure.at > since)) or 0
    by_address = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address == address[:64], LoginFailure.at > since)) or 0
    if by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT:
        minutes = int(WINDOW.total_seconds() // 60)
        raise TooManyAttemptsError(
            f"登录失败次数过多，请 {minutes} 分钟后再试 / too many failed logins, try again in "
            f"{minutes} minutes", field="username" if by_account >= ACCOUNT_LIMIT else None)


def record_failure(session: Session, username: str, address: str, now: datetime) -> None:
    # Rows older than the window count for nothing: drop them as new ones arrive.
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    session.add(LoginFailure(username=_key(username), address=address[:64], at=now))


def clear_account(session: Session, username: str) -> None:
    """A successful login forgets the account's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
