"""Business deadlines follow the holiday calendar.

A step's time limit is counted in working days but stored as two instants
(``businesses.step_warn_at/step_due_at``) so the inbox can range-scan them. When
``holidays.yaml`` is edited (a holiday added, a 调休 weekend moved) those instants are
stale; ``follow_calendar`` notices the change by the calendar's fingerprint and recomputes
every open step clock with the new calendar. The reminder sweep calls it first, so a
change takes effect within one sweep interval; tasks (48 h / 7 days) count clock time and
are not affected.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dms.db.models import Business, BusinessStepDone
from dms.db.models_upkeep import CalendarApplied
from dms.domain import reminders as rules
from dms.domain.checklist import Checklist
from dms.domain.workdays import HolidayCalendar
from dms.services.lifecycle import as_utc

_CHUNK = 5000  # businesses per round trip: memory stays flat on a million-row archive


def calendar_fingerprint(calendar: HolidayCalendar) -> str:
    """Same days off, same working weekends, same zone: same fingerprint."""
    text = "|".join([",".join(sorted(d.isoformat() for d in calendar.holidays)),
                     ",".join(sorted(d.isoformat() for d in calendar.working_weekends)),
                     str(calendar.tz)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def recompute_step_clocks(session: Session, checklist: Checklist,
                          calendar: HolidayCalendar) -> int:
    """Recompute the warn/due instants of every business with an open step time limit;
    returns how many changed."""
    changed = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(Business.id, Business.business_type, Business.step_warn_at,
                   Business.step_due_at)
            .where(Business.step_due_at.is_not(None), Business.id > last_id)
            .order_by(Business.id).limit(_CHUNK)).all()
        if not rows:
            return changed
        last_id = rows[-1].id
        done: dict[int, dict[str, datetime]] = defaultdict(dict)
        for bid, step, at in session.execute(
                select(BusinessStepDone.business_id, BusinessStepDone.step,
                       BusinessStepDone.completed_at)
                .where(BusinessStepDone.business_id.in_([r.id for r in rows]))):
            done[bid][step] = as_utc(at)
        updates = []
        for r in rows:
            steps = done.get(r.id, {})
            clock = rules.step_clock(checklist, calendar, r.business_type, set(steps),
                                     max(steps.values()) if steps else None)
            warn = as_utc(clock.warn_at) if clock else None
            due = as_utc(clock.due_at) if clock else None
            if (warn, due) != (as_utc(r.step_warn_at), as_utc(r.step_due_at)):
                updates.append({"id": r.id, "step_warn_at": warn, "step_due_at": due})
        if updates:
            session.execute(update(Business), updates)  # executemany by primary key
            changed += len(updates)


def follow_calendar(session: Session, checklist: Checklist, calendar: HolidayCalendar,
                    now: datetime) -> int | None:
    """Recompute the step clocks if ``calendar`` differs from the one last applied.

    Returns the number of businesses whose deadlines moved, or None when nothing changed.
    """
    fingerprint = calendar_fingerprint(calendar)
    last = session.scalar(select(CalendarApplied.fingerprint)
                          .order_by(CalendarApplied.id.desc()).limit(1))
    if last == fingerprint:
        return None
    moved = recompute_step_clocks(session, checklist, calendar)
    session.add(CalendarApplied(fingerprint=fingerprint, applied_at=as_utc(now),
                                businesses_updated=moved))
    session.flush()
    return moved
