"""Working-day arithmetic for business time limits (业扩时限 are counted in WORKING days).

A day is a working day when it is listed as an adjusted working weekend (调休), or
when it is a Monday–Friday that is not a public holiday. Day boundaries are local
midnights in the calendar's time zone; instants passed in may be in any zone.

Working time is measured continuously: a step completed on Friday at 10:00 with a
limit of 2 working days is due on Tuesday at 10:00 (the weekend does not count).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from dms.errors import ConfigError

DAY = timedelta(days=1)
# No real calendar has a year without working days; this bounds loops on a broken file.
MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def is_working_day(self, d: date) -> bool:
        if d in self.working_weekends:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("working-day arithmetic needs timezone-aware datetimes")
        return at.astimezone(self.tz)

    def _next_midnight(self, local: datetime) -> datetime:
        return datetime.combine(local.date() + DAY, time(0), tzinfo=self.tz)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The instant at which ``days`` working days have elapsed since ``start``."""
        cursor = self._local(start)
        remaining = timedelta(days=days)
        for _ in range(MAX_SCAN_DAYS):
            midnight = self._next_midnight(cursor)
            if self.is_working_day(cursor.date()):
                available = midnight - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
            cursor = midnight
        raise ConfigError("the holiday calendar has no working days for ten years")

    def working_days_elapsed(self, start: datetime, now: datetime) -> float:
        """Working days (fractional) between two instants; 0 when ``now`` <= ``start``."""
        cursor, end = self._local(start), self._local(now)
        if end <= cursor:
            return 0.0
        total = timedelta(0)
        while cursor < end:
            midnight = min(self._next_midnight(cursor), end)
            if self.is_working_day(cursor.date()):
                total += midnight - cursor
            cursor = midnight
        return total / DAY

    def working_days_in(self, first: date, last: date) -> int:
        """Count of working days in the closed interval [first, last]."""
        n, d = 0, first
        while d <= last:
            n += self.is_working_day(d)
            d += DAY
        return n


def _dates(items: list[Any] | None, what: str) -> frozenset[date]:
    out: set[date] = set()
    for item in items or []:
        if isinstance(item, date):
            out.add(item)
            continue
        text = str(item).strip()
        try:
            if ".." in text:
                lo, hi = (date.fromisoformat(p.strip()) for p in text.split("..", 1))
                if hi < lo:
                    raise ValueError(f"range {text} ends before it starts")
                out.update(lo + DAY * i for i in range((hi - lo).days + 1))
            else:
                out.add(date.fromisoformat(text))
        except ValueError as exc:
            raise ConfigError(f"holiday calendar: bad {what} entry {item!r}: {exc}") from None
    return frozenset(out)


def parse_calendar(data: dict[str, Any]) -> HolidayCalendar:
    tz_name = str(data.get("timezone") or "Asia/Shanghai")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"holiday calendar: unknown time zone {tz_name!r}",
                          hint="install tzdata or use e.g. Asia/Shanghai") from None
    holidays = _dates(data.get("holidays"), "holidays")
    weekends = _dates(data.get("working_weekends"), "working_weekends")
    clash = holidays & weekends
    if clash:
        raise ConfigError("holiday calendar: dates are both holiday and working day: "
                          + ", ".join(sorted(d.isoformat() for d in clash)))
    return HolidayCalendar(holidays, weekends, tz)


def load_calendar(path: Path) -> HolidayCalendar:
    """Read ``holidays.yaml``; a missing file means plain Monday–Friday weeks."""
    if not path.exists():
        return HolidayCalendar()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML raises ValueError for date-looking scalars such as 2026-13-01.
        raise ConfigError(f"holiday calendar {path} is not valid: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"holiday calendar {path} must be a mapping")
    return parse_calendar(data)
