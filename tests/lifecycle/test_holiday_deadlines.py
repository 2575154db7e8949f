"""Editing holidays.yaml moves the deadlines of open business steps (业扩时限) at the next
reminder sweep; finished steps and an unchanged calendar are left alone."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from dms.db.models_upkeep import CalendarApplied
from dms.services import lifecycle
from dms.services.container import Services, build_services
from dms.services.reminders import inbox_for, run_sweep
from dms.settings import DEFAULT_CONFIG_DIR
from tests.lifecycle.conftest import at, event, make_settings, send, user


def due_at(services: Services, business_no: str) -> datetime | None:
    with services.sessions() as s:
        due = lifecycle.get_business(s, business_no).step_due_at
        return lifecycle.as_utc(due) if due is not None else None


def test_adding_a_holiday_moves_open_deadlines_at_the_next_sweep(
        services: Services, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    svc = build_services(make_settings(tmp_path, services.settings.database_url,
                                       config_dir=config))
    try:
        # Friday before 清明 (04-04..06 off): 2 working days for the scheme → Wed 10:00.
        t0 = at("2026-04-03 10:00")
        send(svc, event("E1", "accept", t0.isoformat()), now=t0)
        # A second business whose scheme step is done: its contract step has no limit.
        send(svc, event("E2", "accept", t0.isoformat(), business_no="YK2026000002"), now=t0)
        send(svc, event("E3", "scheme", t0.isoformat(), business_no="YK2026000002"), now=t0)
        assert due_at(svc, "YK2026000001") == at("2026-04-08 10:00")
        assert due_at(svc, "YK2026000002") is None
        run_sweep(svc, at("2026-04-03 11:00"))  # records the calendar in force
        assert due_at(svc, "YK2026000001") == at("2026-04-08 10:00")

        # The company gives Tuesday 04-07 off as well.
        holidays = config / "holidays.yaml"
        holidays.write_text(holidays.read_text(encoding="utf-8").replace(
            "holidays:\n", "holidays:\n  - 2026-04-07\n", 1), encoding="utf-8")
        inbox_before = _c1_inbox(svc, at("2026-04-08 10:30"))
        assert inbox_before.limit_counts["overdue"] == 1  # stale until the sweep runs
        run_sweep(svc, at("2026-04-06 09:00"))
        assert due_at(svc, "YK2026000001") == at("2026-04-09 10:00")
        assert due_at(svc, "YK2026000002") is None
        after = _c1_inbox(svc, at("2026-04-08 10:30"))
        assert after.limit_counts == {"overdue": 0, "warning": 0, "normal": 1}
        # 80 % of 2 working days: Fri 14 h + all of Wed + 24 min of Thu.
        assert _c1_inbox(svc, at("2026-04-09 00:30")).limit_counts["warning"] == 1

        run_sweep(svc, at("2026-04-06 09:15"))  # same calendar again: nothing recomputed
        with svc.sessions() as s:
            applied = list(s.execute(select(CalendarApplied.businesses_updated)
                                     .order_by(CalendarApplied.id)).scalars())
            assert applied == [0, 1]
            assert s.scalar(select(func.count()).select_from(CalendarApplied)) == 2
    finally:
        svc.close()


def _c1_inbox(services: Services, now: datetime):  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        return inbox_for(s, user(services, "c1"), services.checklist, now)
