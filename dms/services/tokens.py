"""Bearer tokens of scanner stations and upstream systems: create, list, revoke, check.

One token per station or system, stored as its SHA-256 only and printed once. What a
token may do is the access policy's row for its kind (``dms.domain.access``): a station
uploads to and reads its own batches, a system posts events.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from dms.db.models_lifecycle import SystemToken
from dms.db.session import session_scope
from dms.domain.access import Subject
from dms.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from dms.services.access import Principal
from dms.services.container import Services

KINDS = (Subject.STATION.value, Subject.SYSTEM.value)


class TokenAuthError(PermissionDeniedError):
    code = "unauthorized"
    http_status = 401


@dataclass(frozen=True)
class TokenInfo:
    id: int
    kind: str
    name: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(services: Services, kind: str, name: str) -> tuple[int, str]:
    """A new token for station or system ``name`` (replacing its old one): (id, token)."""
    name = name.strip()
    if kind not in KINDS:
        raise InvalidInputError(f"unknown token kind {kind!r}", hint="station or system")
    if not name or len(name) > 64:
        raise InvalidInputError("name the station or system the token is for (1–64 characters)")
    token = secrets.token_urlsafe(32)
    with session_scope(services.sessions) as s:
        row = s.scalar(select(SystemToken).where(SystemToken.system == name))
        if row is not None and row.kind != kind:
            raise InvalidInputError(f"{name!r} already names a {row.kind}",
                                    hint="choose another name")
        if row is None:
            row = SystemToken(system=name, kind=kind)
            s.add(row)
        row.token_sha256, row.active = digest(token), True
        s.flush()
        return row.id, token


def list_tokens(services: Services) -> list[TokenInfo]:
    with services.sessions() as s:
        return [TokenInfo(t.id, t.kind, t.system, t.active, t.created_at, t.last_used_at)
                for t in s.scalars(select(SystemToken).order_by(SystemToken.id))]


def revoke_token(services: Services, token_id: int) -> TokenInfo:
    with session_scope(services.sessions) as s:
        row = s.get(SystemToken, token_id)
        if row is None:
            raise NotFoundError(f"no token {token_id}", hint="dms tokens list")
        row.active = False
        return TokenInfo(row.id, row.kind, row.system, row.active, row.created_at,
                         row.last_used_at)


def any_active(services: Services, kind: str) -> bool:
    with services.sessions() as s:
        return s.scalar(select(SystemToken.id).where(
            SystemToken.kind == kind, SystemToken.active.is_(True)).limit(1)) is not None


def authenticate(services: Services, token: str, kind: str) -> Principal:
    """The station or system a bearer token belongs to; a token of another kind, a revoked
    or an unknown one is refused alike (401)."""
    if not token:
        raise TokenAuthError("missing token", hint="send 'Authorization: Bearer <token>'")
    d = digest(token)
    with session_scope(services.sessions) as s:
        row = s.scalar(select(SystemToken).where(SystemToken.token_sha256 == d,
                                                 SystemToken.active.is_(True)))
        if row is None or row.kind != kind or not hmac.compare_digest(row.token_sha256, d):
            raise TokenAuthError(f"invalid {kind} token",
                                 hint=f"create one with: dms tokens create --{kind} NAME")
        row.last_used_at = datetime.now(UTC)
        return Principal(subject=kind, name=row.system, token_id=row.id)
