"""The pure rules: working days with a holiday calendar, step time limits, urging
schedule, contract expiry, event validation."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from dms.domain.checklist import Deadlines, load_checklist
from dms.domain.lifecycle import State, may_act_on, parse_step_event, reopen
from dms.domain.reminders import (LimitStatus, contract_end, current_step, expiring,
                                  limit_status, plan_urge, step_clock, steps_of)
from dms.domain.roles import Role
from dms.domain.workdays import HolidayCalendar, load_calendar, parse_calendar
from dms.errors import ConfigError, InvalidInputError
from dms.settings import DEFAULT_CONFIG_DIR
from tests.lifecycle.conftest import CST, at

CHECKLIST = load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")
# 2026-04-03 is a Friday; 2026-04-04..06 is 清明 (Sat, Sun, Mon); 2026-02-28 is a 调休 Saturday.
CAL = parse_calendar({"timezone": "Asia/Shanghai", "holidays": ["2026-04-04..2026-04-06"],
                      "working_weekends": ["2026-02-28"]})


def test_working_days_skip_weekend_and_holiday() -> None:
    plain = HolidayCalendar()
    # Friday 10:00 + 2 working days: the weekend does not count → Tuesday 10:00.
    assert plain.add_working_days(at("2026-03-06 10:00"), 2) == at("2026-03-10 10:00")
    # Over 清明 (Sat–Mon off) the same limit lands on Wednesday.
    assert CAL.add_working_days(at("2026-04-03 10:00"), 2) == at("2026-04-08 10:00")
    assert CAL.working_days_elapsed(at("2026-04-03 10:00"), at("2026-04-07 10:00")) == \
        pytest.approx(1.0)
    assert CAL.working_days_in(date(2026, 4, 1), date(2026, 4, 10)) == 7


def test_adjusted_working_weekend_counts() -> None:
    assert CAL.is_working_day(date(2026, 2, 28))  # a Saturday made a working day (调休)
    assert not CAL.is_working_day(date(2026, 3, 1))
    # Friday 2026-02-27 12:00 + 1 working day = Saturday 12:00, not Monday.
    assert CAL.add_working_days(at("2026-02-27 12:00"), 1) == at("2026-02-28 12:00")


def test_an_instant_in_utc_is_counted_in_local_days() -> None:
    # 2026-03-06 20:00 UTC is Saturday 04:00 in Beijing: nothing elapses until Monday.
    start = at("2026-03-07 04:00").astimezone(CST).replace(tzinfo=CST)
    assert CAL.add_working_days(start, 0.5) == at("2026-03-09 12:00")


def test_shipped_calendar_loads_and_rejects_nonsense(tmp_path: Path) -> None:
    cal = load_calendar(DEFAULT_CONFIG_DIR / "holidays.yaml")
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))
    assert load_calendar(tmp_path / "absent.yaml") == HolidayCalendar()
    bad = tmp_path / "bad.yaml"
    bad.write_text("holidays: [2026-13-01]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid"):
        load_calendar(bad)
    with pytest.raises(ConfigError, match="both"):
        parse_calendar({"holidays": ["2026-02-28"], "working_weekends": ["2026-02-28"]})


def test_step_clock_and_limit_status_across_holiday() -> None:
    assert steps_of(CHECKLIST, "LV_RES_NEW") == ["accept", "scheme", "contract", "connect"]
    assert current_step(CHECKLIST, "LV_RES_NEW", {"accept"}) == "scheme"
    clock = step_clock(CHECKLIST, CAL, "LV_RES_NEW", {"accept"}, at("2026-04-03 10:00"))
    assert clock is not None and (clock.step, clock.limit_days) == ("scheme", 2)
    assert clock.due_at == at("2026-04-08 10:00")
    assert clock.warn_at == at("2026-04-08 00:24")  # 80 % of 2 working days = 1.6 days
    assert limit_status(at("2026-04-07 09:00"), clock.warn_at, clock.due_at) == \
        LimitStatus.NORMAL
    assert limit_status(at("2026-04-08 09:00"), clock.warn_at, clock.due_at) == \
        LimitStatus.WARNING
    assert limit_status(at("2026-04-08 10:01"), clock.warn_at, clock.due_at) == \
        LimitStatus.OVERDUE
    # The contract step has no time limit; a finished business has no clock.
    assert step_clock(CHECKLIST, CAL, "LV_RES_NEW", {"accept", "scheme"},
                      at("2026-04-03 10:00")) is None
    assert current_step(CHECKLIST, "LV_RES_NEW", set(steps_of(CHECKLIST, "LV_RES_NEW"))) is None


def test_urging_schedule_with_fixed_clock() -> None:
    dl = Deadlines()
    due = at("2026-03-04 10:00")
    assert plan_urge(due_at=due, urges_sent=0, now=due - timedelta(minutes=1), deadlines=dl) \
        is None
    first = plan_urge(due_at=due, urges_sent=0, now=due, deadlines=dl)
    assert first is not None and (first.urge_no, first.escalate) == (1, False)
    assert first.next_urge_at == due + timedelta(hours=24)
    assert plan_urge(due_at=due, urges_sent=1, now=due + timedelta(hours=23), deadlines=dl) \
        is None
    second = plan_urge(due_at=due, urges_sent=1, now=due + timedelta(hours=24), deadlines=dl)
    assert second is not None and (second.urge_no, second.escalate) == (2, True)
    # A sweep that was down for three days sends one urge and keeps the rhythm.
    late = plan_urge(due_at=due, urges_sent=2, now=due + timedelta(hours=121), deadlines=dl)
    assert late is not None and late.urge_no == 3
    assert late.next_urge_at == due + timedelta(hours=144)


def test_contract_expiry_from_extracted_dates() -> None:
    dl = Deadlines()
    today = date(2026, 3, 1)
    assert contract_end({"contract_end": "2026-05-30"}) == date(2026, 5, 30)
    assert expiring({"contract_end": "2026-05-30"}, today, dl)
    assert expiring({"contract_end": "2026-03-01"}, today, dl)
    assert not expiring({"contract_end": "2026-05-31"}, today, dl)  # 91 days ahead
    assert not expiring({"contract_end": "2026-02-28"}, today, dl)  # already ended
    assert not expiring({"contract_end": "不详"}, today, dl)
    assert not expiring({}, today, dl)


def test_event_validation_is_clear() -> None:
    ok = {"event_id": "E1", "customer_no": "1", "business_no": "B", "business_type": "T",
          "step": "accept", "completed_at": "2026-03-02 10:00", "handler": "h1"}
    ev = parse_step_event(ok, default_tz=CST)
    assert ev.completed_at == at("2026-03-02 10:00") and ev.agent_applied is False
    with pytest.raises(InvalidInputError, match="customer_no, handler"):
        parse_step_event({**ok, "customer_no": "", "handler": None}, default_tz=CST)
    with pytest.raises(InvalidInputError, match="ISO 8601"):
        parse_step_event({**ok, "completed_at": "yesterday"}, default_tz=CST)
    with pytest.raises(InvalidInputError, match="JSON object"):
        parse_step_event(["E1"], default_tz=CST)
    assert parse_step_event({**ok, "agent_applied": "是"}, default_tz=CST).agent_applied


def test_team_scope_and_reopen() -> None:
    assert may_act_on(Role.COLLECTOR, actor_team_id=1, item_team_id=1)
    assert not may_act_on(Role.COLLECTOR, actor_team_id=2, item_team_id=1)
    assert may_act_on(Role.ARCHIVIST, actor_team_id=None, item_team_id=1)
    assert reopen(State.PENDING_ADD, reason="x") is None
    t = reopen(State.ARCHIVED, reason="新资料")
    assert t is not None and t.target == State.PENDING_ADD and t.actor == "system"
