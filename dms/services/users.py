"""Users and roles."""
from __future__ import annotations

import re
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dms.db.models import Team, User
from dms.domain.roles import Role
from dms.errors import InvalidInputError, NotFoundError
from dms.services.passwords import check_password

# One address, no display name: what the SMTP notifier puts in "To". Deliverability is the
# mail server's business; this only catches typos such as a missing "@" or a pasted space.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def create_user(session: Session, username: str, password: str, role: str, *,
                display_name: str = "", team_code: str | None = None,
                team_leader: bool = False, email: str = "") -> User:
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInputError(f"unknown role {role!r}",
                                hint="one of: " + ", ".join(r.value for r in Role)) from None
    check_password(password, username=username)
    email = email.strip()
    if email and not _EMAIL.fullmatch(email):
        raise InvalidInputError(f"not an e-mail address: {email!r}", hint="e.g. wang@example.com")
    team = ensure_team(session, team_code) if team_code else None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        session.add(user)
    user.display_name = display_name or username
    if user.password_hash and not check_password_hash(user.password_hash, password):
        user.session_version = (user.session_version or 0) + 1  # a new password: log out
    user.password_hash = generate_password_hash(password)
    user.role = role_.value
    user.team = team
    user.is_team_leader = team_leader
    user.email = email
    user.active = True
    session.flush()
    return user


def ensure_team(session: Session, code: str, name: str = "") -> Team:
    team = session.scalar(select(Team).where(Team.code == code))
    if team is None:
        team = Team(code=code, name=name or code)
        session.add(team)
        session.flush()
    return team


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such user: the same scrypt work as a real one")


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    # An unknown name costs the same scrypt verification as a known one, so the response
    # time does not tell which names exist (issue 16: 16 ms unknown, 367 ms known).
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    return user if user and ok else None


def change_password(session: Session, username: str, password: str) -> User:
    """Set a new password (policy checked) and revoke every session of the user."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", field="username")
    check_password(password, username=username)
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 0) + 1
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Revoke every session cookie issued to the user so far (logout)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version = (user.session_version or 0) + 1
