"""Users and roles."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dms.db.models import Team, User
from dms.domain.roles import Role
from dms.errors import InvalidInputError

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
    if len(password) < 8:
        raise InvalidInputError("password must have at least 8 characters")
    email = email.strip()
    if email and not _EMAIL.fullmatch(email):
        raise InvalidInputError(f"not an e-mail address: {email!r}", hint="e.g. wang@example.com")
    team = ensure_team(session, team_code) if team_code else None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        session.add(user)
    user.display_name = display_name or username
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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user and check_password_hash(user.password_hash, password):
        return user
    return None
