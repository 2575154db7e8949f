"""Lending with approval, due dates, overdue reminders and return by scanning."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dms.db.models import AuditEvent
from dms.db.session import session_scope
from dms.domain.roles import Role
from dms.errors import ConflictError, PermissionDeniedError
from dms.services import lending as LS
from dms.services import physical as P
from dms.services import physical_query as Q
from dms.services.scanning import handle_scan
from tests.physical.conftest import Db, seed_customer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ARCH = dict(actor="archivist", role=Role.ARCHIVIST)


@pytest.fixture
def shelved(db: Db) -> Db:
    with session_scope(db.sessions) as s:
        P.create_room(s, number=1, name="", actor="a", sections=2, levels=2)
        seed_customer(s, "3301000001", "张三", contract_no="HT-2024-0001")
        P.form_volume(s, actor="archivist", customer_no="3301000001")
        P.create_boxes(s, count=1, actor="archivist")
        user = db.user(s, "archivist")
        P.put_volume_in_box(s, volume_no="JZ3301000001-01", box_code="BX00000001", user=user,
                            checklist=db.checklist)
        P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-02-1", user=user,
                   checklist=db.checklist)
    return db


def test_request_approve_check_out_overdue_and_return_by_scan(shelved: Db) -> None:
    db = shelved
    with session_scope(db.sessions) as s:
        loan = LS.request_loan(s, volume_no="jz3301000001-01", user=db.user(s, "lawyer"),
                               reason="dispute", note="合同纠纷 (2026)民初123号", now=T0)
        loan_id = loan.id
        assert loan.borrower == "赵律师" and loan.borrower_team == "法律事务部"
        with pytest.raises(ConflictError, match="open loan"):
            LS.request_loan(s, volume_no="JZ3301000001-01", user=db.user(s, "handler"),
                            reason="business", now=T0)
        with pytest.raises(PermissionDeniedError):
            LS.approve_loan(s, loan_id, actor="lawyer", role=Role.DISPUTE, now=T0)
        with pytest.raises(ConflictError):  # not approved yet
            LS.check_out(s, loan_id, now=T0, **ARCH)  # type: ignore[arg-type]
        LS.approve_loan(s, loan_id, now=T0, **ARCH)  # type: ignore[arg-type]
        out = LS.check_out(s, loan_id, now=T0 + timedelta(hours=1),
                           actor="archivist2", role=Role.ARCHIVIST)
        assert out.due_at == T0 + timedelta(days=30, hours=1)
    with db.sessions() as s:
        v = Q.locate(s, "JZ3301000001-01", T0 + timedelta(days=2)).volumes[0]
        assert v.on_loan and v.loan_state == "checked_out" and v.borrower == "赵律师"
        assert v.slot_code == "R01-J01-A-02-1"  # its home slot is still known
        assert LS.overdue_loans(s, T0 + timedelta(days=30)) == []
        late = T0 + timedelta(days=33)
        [o] = LS.overdue_loans(s, late)
        assert (o.volume_no, o.customer_no, o.borrower, o.days_overdue) == (
            "JZ3301000001-01", "3301000001", "赵律师", 3)
        assert Q.locate(s, "JZ3301000001-01", late).volumes[0].loan_state == "overdue"
    # Returned by scanning the volume label at the desk.
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        wrong = handle_scan(s, "BX00000001", pending_box="", mode="return", user=user,
                            checklist=db.checklist, now=late)
        assert not wrong.ok
        ans = handle_scan(s, "JZ3301000001-01", pending_box="", mode="return", user=user,
                          checklist=db.checklist, now=late)
        assert ans.ok and "已归还" in ans.message and "赵律师" in ans.message
    with db.sessions() as s:
        assert LS.overdue_loans(s, late) == []
        [done] = LS.loans_of_volume(s, "JZ3301000001-01")
        assert done.state == "returned" and done.returned_to == "archivist"
        actions = [e.action for e in s.scalars(select(AuditEvent).where(
            AuditEvent.entity == "volume").order_by(AuditEvent.id))]
        assert actions[-4:] == ["loan_requested", "loan_approved", "loan_checked_out",
                                "loan_returned"]
        returned = s.scalar(select(AuditEvent).where(AuditEvent.action == "loan_returned"))
        assert returned is not None and returned.data["days_late"] == 3
        history = [h.action for h in Q.volume_history(s, "JZ3301000001-01")]
        assert "loan_checked_out" in history and "shelve" in history
    with session_scope(db.sessions) as s:  # free again: a new request is possible
        LS.request_loan(s, volume_no="JZ3301000001-01", user=db.user(s, "handler"),
                        reason="audit", now=late)


def test_reject_cancel_and_four_eyes(shelved: Db) -> None:
    db = shelved
    with session_scope(db.sessions) as s:
        own = LS.request_loan(s, volume_no="JZ3301000001-01", user=db.user(s, "archivist"),
                              reason="business", now=T0)
        with pytest.raises(PermissionDeniedError, match="four-eyes"):
            LS.approve_loan(s, own.id, now=T0, **ARCH)  # type: ignore[arg-type]
        LS.cancel_loan(s, own.id, actor="archivist", role=Role.ARCHIVIST, now=T0)
        other = LS.request_loan(s, volume_no="JZ3301000001-01", user=db.user(s, "handler"),
                                reason="business", now=T0)
        rejected = LS.reject_loan(s, other.id, now=T0, reason="请使用电子档案",
                                  **ARCH)  # type: ignore[arg-type]
        assert rejected.state == "rejected" and rejected.decision_note == "请使用电子档案"
        with pytest.raises(ConflictError):
            LS.return_volume(s, "JZ3301000001-01", now=T0, **ARCH)  # type: ignore[arg-type]
        third = LS.request_loan(s, volume_no="JZ3301000001-01", user=db.user(s, "lawyer"),
                                reason="audit", now=T0)
        LS.approve_loan(s, third.id, now=T0, **ARCH)  # type: ignore[arg-type]
        short = LS.check_out(s, third.id, now=T0, days=3, **ARCH)  # type: ignore[arg-type]
        assert short.due_at == T0 + timedelta(days=3)
        rows = LS.loans_in_state(s, ["checked_out"])
        assert [(r[0].id, r[1]) for r in rows] == [(third.id, "JZ3301000001-01")]
