"""Statistics from a fixed history: completeness per group, timeliness from the audit log,
return rates per gate with reasons, overdue businesses per team."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from dms.db.models import Task
from dms.services.container import Services
from dms.services.statistics import (completeness, overdue_by_team, return_rates,
                                     timeliness)
from tests.reports.conftest import T0, business, doc, hours, team, transition, user

NOW = T0 + timedelta(days=20)


def test_completeness_by_team_handler_type_and_month(svc: Services, session: Session) -> None:
    a, k = team(session, "YYB"), team(session, "DKH")
    ha = user(session, "a", a)
    full = business(session, a, "SUSPEND", handler=ha)  # BGSQ SFZM KCD
    for dt in ("BGSQ", "SFZM", "KCD"):
        doc(session, full, dt)
    half = business(session, a, "SUSPEND", handler=ha,
                    steps={"accept": T0, "survey": NOW - timedelta(days=2)})
    doc(session, half, "BGSQ")  # SFZM missing since T0 (old), KCD since 2 days (new)
    business(session, k, "RENAME", created=T0 + timedelta(days=40))  # 4 missing, not old
    session.flush()
    cl = svc.checklist
    by_team = {r.key: r for r in completeness(session, cl, 0.6, group_by="team", now=NOW)}
    assert (by_team["YYB"].businesses, by_team["YYB"].complete_businesses) == (2, 1)
    assert (by_team["YYB"].required, by_team["YYB"].present) == (6, 4)
    assert (by_team["YYB"].open_gaps, by_team["YYB"].old_gaps) == (2, 1)
    assert by_team["YYB"].rate == 4 / 6
    assert (by_team["DKH"].open_gaps, by_team["DKH"].old_gaps, by_team["DKH"].rate) == (4, 0, 0)
    by_handler = {r.key: r for r in completeness(session, cl, 0.6, group_by="handler",
                                                 now=NOW)}
    assert by_handler["经办a"].required == 6 and by_handler[""].required == 4
    by_type = {r.key: r.open_gaps for r in completeness(session, cl, 0.6,
                                                        group_by="business_type", now=NOW)}
    assert by_type == {"RENAME": 4, "SUSPEND": 2}
    by_month = {r.key: r.businesses for r in completeness(session, cl, 0.6, group_by="month",
                                                          now=NOW)}
    assert by_month == {"2026-03": 2, "2026-04": 1}


def test_timeliness_from_a_fixed_audit_history(svc: Services, session: Session) -> None:
    a, k = team(session, "YYB"), team(session, "DKH")
    # 1: sent after 10 h, received after 3 days: in time twice.
    b1 = business(session, a, "SUSPEND", steps={"accept": T0})
    transition(session, b1, "pending_send", "pending_review", T0 + hours(10))
    transition(session, b1, "pending_transfer", "pending_shelving", T0 + hours(72))
    # 2: sent after 60 h (late), never received although 7 days passed (late).
    b2 = business(session, a, "SUSPEND", steps={"accept": T0})
    transition(session, b2, "pending_send", "pending_review", T0 + hours(60))
    # 3: step completed an hour before now: not due yet, not counted.
    business(session, a, "SUSPEND", steps={"accept": NOW - hours(1)})
    # 4: the survey step of a residential new connection produces no paper: not counted.
    business(session, k, "LV_RES_NEW", steps={"survey": T0})
    # 5: second step of b1's kind: a send before the step completed does not count for it.
    b5 = business(session, k, "SUSPEND", steps={"accept": T0, "survey": T0 + hours(100)})
    transition(session, b5, "pending_send", "pending_review", T0 + hours(5))
    session.flush()
    rows = {r.team: r for r in timeliness(session, svc.checklist, now=NOW)}
    yyb = rows["YYB"]
    assert (yyb.steps, yyb.sent_in_time, yyb.steps_for_transfer,
            yyb.transferred_in_time) == (2, 1, 2, 1)
    assert yyb.sent_rate == 0.5
    dkh = rows["DKH"]
    assert (dkh.steps, dkh.sent_in_time) == (2, 1)  # accept in time, survey never sent
    only = timeliness(session, svc.checklist, now=NOW, teams=("DKH",))
    assert [r.team for r in only] == ["DKH"]


def test_return_rate_per_gate_with_reasons(svc: Services, session: Session) -> None:
    a = team(session, "YYB")
    b = business(session, a, "SUSPEND")
    transition(session, b, "pending_add", "pending_send", T0)
    transition(session, b, "pending_send", "pending_review", T0 + hours(1))
    transition(session, b, "pending_review", "pending_send", T0 + hours(2), reason="扫描模糊")
    transition(session, b, "pending_send", "pending_review", T0 + hours(3))
    transition(session, b, "pending_review", "pending_send", T0 + hours(4), reason="扫描模糊")
    transition(session, b, "pending_send", "pending_review", T0 + hours(5))
    transition(session, b, "pending_review", "pending_transfer", T0 + hours(6))
    transition(session, b, "pending_transfer", "pending_review", T0 + hours(7), reason="缺页")
    # The system's reopening after a new step is not a return.
    transition(session, b, "pending_send", "pending_add", T0 + hours(8), actor="system",
               reason="新资料待添加")
    session.flush()
    gates = {g.gate: g for g in return_rates(session)}
    assert (gates["review"].passes, gates["review"].returns) == (1, 2)
    assert gates["review"].reasons == [("扫描模糊", 2)]
    assert gates["review"].rate == 2 / 3
    assert (gates["receipt"].returns, gates["receipt"].reasons) == (1, [("缺页", 1)])
    assert (gates["self_check"].passes, gates["self_check"].returns) == (3, 0)
    assert gates["digitised"].returns == 0
    assert all(g.returns == 0 for g in return_rates(session, teams=("NONE",)))


def test_overdue_businesses_per_team(svc: Services, session: Session) -> None:
    a, k = team(session, "YYB"), team(session, "DKH")
    late = business(session, a, "SUSPEND")
    late.step_due_at = NOW - hours(1)
    ok = business(session, a, "SUSPEND")
    ok.step_due_at = NOW + hours(1)
    archived = business(session, a, "SUSPEND")
    archived.step_due_at, archived.archive_state = NOW - hours(5), "archived"
    work = business(session, k, "SUSPEND")
    session.add(Task(kind="digitise", business_id=work.id, team_id=k.id, status="open",
                     due_at=NOW - hours(3)))
    session.add(Task(kind="digitise", business_id=ok.id, team_id=a.id, status="done",
                     due_at=NOW - hours(3)))
    session.flush()
    rows = {r.team: (r.past_time_limit, r.archive_work_overdue)
            for r in overdue_by_team(session, now=NOW)}
    assert rows == {"YYB": (1, 0), "DKH": (0, 1)}
