"""Showing stored instants in the deployment's time zone.

The database holds UTC (SQLite even drops the offset, so a naive value read back is UTC).
Every page, export and mail shows the instant in one zone (``DMS_TIME_ZONE``, default
Asia/Shanghai): a step completed at 09:00+08:00 reads 09:00, never 01:00.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dms.errors import ConfigError

DEFAULT_ZONE = "Asia/Shanghai"
# The deployment's zone, set once from the settings when the services are built; reports
# formatted by the database (CSV) read it when their statement is built.
_display = {"zone": DEFAULT_ZONE}


def set_display_zone(name: str) -> None:
    zone(name)  # refuse an unknown name at start-up, not in a report
    _display["zone"] = name


def display_zone() -> ZoneInfo:
    return zone(_display["zone"])


def display_zone_name() -> str:
    return _display["zone"]


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}",
                          hint="DMS_TIME_ZONE is an IANA name such as Asia/Shanghai") from None


def to_local(at: datetime, tz: ZoneInfo) -> datetime:
    """``at`` in ``tz``; a naive value is a stored UTC instant."""
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(tz)


def show(at: datetime | date | str | None, tz: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """How a page prints an instant: local wall time. Dates (no time of day) print as is."""
    if at is None or at == "":
        return ""
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            return at
        at = parsed
    if not isinstance(at, datetime):
        return at.isoformat() if pattern.startswith("%Y-%m-%d") else at.strftime(pattern)
    return to_local(at, tz).strftime(pattern)


def iso(at: datetime | None, tz: ZoneInfo) -> str:
    """How an export writes an instant: ISO 8601 with the local offset (…+08:00)."""
    if at is None:
        return ""
    return to_local(at, tz).isoformat(timespec="seconds")


def minute_with_offset(at: datetime | str | None, tz_name: str) -> str | None:
    """"2026-03-02 09:00+08:00": an instant to the minute in the zone, with its offset (how
    CSV exports write instants). Registered as an SQL function on SQLite connections."""
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    local = to_local(at, zone(tz_name))
    off = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M") + off[:3] + ":" + off[3:]
