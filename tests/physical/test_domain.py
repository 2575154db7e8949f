"""The pure rules: codes, scans, distances, stock comparison, lending states and dates."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dms.domain import lending as L
from dms.domain.locations import (ScanKind, SlotCode, box_code, box_number, classify_scan,
                                  compare_stock, group_scans, parse_sides, parse_slot_code,
                                  range_label, slot_distance, slot_range, unit_slots,
                                  volume_number)
from dms.domain.roles import Role
from dms.errors import ConflictError, InvalidInputError, PermissionDeniedError

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_codes_round_trip_and_are_told_apart() -> None:
    assert str(parse_slot_code(" r01-j03-a-05-2 ")) == "R01-J03-A-05-2"
    assert box_code(123) == "BX00000123" and box_number("bx00000123") == 123
    assert volume_number("3301000001", 2) == "JZ3301000001-02"
    assert classify_scan("R01-J03-B-10-6") is ScanKind.SLOT
    assert classify_scan("BX00000001") is ScanKind.BOX
    assert classify_scan("jz3301000001-02") is ScanKind.VOLUME
    assert classify_scan("hello") is ScanKind.UNKNOWN
    with pytest.raises(InvalidInputError):
        box_code(0)
    with pytest.raises(InvalidInputError):
        parse_sides("AC")
    assert parse_sides("a,b") == ("A", "B")


def test_a_unit_of_10_sections_6_levels_2_sides_is_120_slots() -> None:
    slots = unit_slots(1, 3, 10, 6)
    assert len(slots) == 120 == len(set(slots))
    assert str(slots[0]) == "R01-J03-A-01-1" and str(slots[-1]) == "R01-J03-B-10-6"


def test_distance_prefers_same_side_then_section_then_level() -> None:
    a = SlotCode(1, 3, "A", 5, 2)
    near = [SlotCode(1, 3, "A", 5, 3), SlotCode(1, 3, "A", 6, 2), SlotCode(1, 3, "B", 5, 2),
            SlotCode(1, 4, "A", 5, 2), SlotCode(2, 3, "A", 5, 2)]
    assert sorted(near, key=lambda c: slot_distance(a, c)) == near


def test_group_scans_and_compare_stock() -> None:
    rng = slot_range("R01-J01-A-01-2", "R01-J01-A-01-1")
    assert rng == (SlotCode(1, 1, "A", 1, 1), SlotCode(1, 1, "A", 1, 2))
    with pytest.raises(InvalidInputError):
        slot_range("R01-J01-A-01-1", "R01-J02-A-01-1")
    pairs = group_scans(["R01-J01-A-01-1", "BX00000001", "bx00000003", "", "R01-J01-A-01-2",
                         "BX00000002", "BX00000009", "BX00000007", "BX00000007"])
    assert pairs[0] == ("R01-J01-A-01-1", "BX00000001") and len(pairs) == 6
    recorded = {"BX00000001": "R01-J01-A-01-1", "BX00000002": "R01-J01-A-01-2",
                "BX00000003": "R01-J01-A-01-2",   # recorded on level 2, found on level 1
                "BX00000004": "R01-J01-A-01-1",   # not found
                "BX00000007": None,               # never shelved, yet found
                "BX00000009": "R01-J05-B-02-1"}   # belongs elsewhere
    r = compare_stock(rng, pairs, recorded)
    assert r.confirmed == ["BX00000001", "BX00000002"]
    assert r.missing == [("BX00000004", "R01-J01-A-01-1")]
    assert ("BX00000003", "R01-J01-A-01-2", "R01-J01-A-01-1") in r.misplaced
    assert ("BX00000009", "R01-J05-B-02-1", "R01-J01-A-01-2") in r.misplaced
    assert r.unexpected == [("BX00000007", "R01-J01-A-01-2")] and not r.clean
    assert range_label(["3", "1", "2"]) == "1 – 3" and range_label(["1"]) == "1"


def test_loan_states_and_four_eyes() -> None:
    S, A = L.LoanState, L.LoanAction
    kw = dict(actor="archivist", requester="lawyer")
    assert L.next_state(S.REQUESTED, A.APPROVE, role=Role.ARCHIVIST, **kw) is S.APPROVED
    assert L.next_state(S.APPROVED, A.CHECK_OUT, role=Role.ARCHIVIST, **kw) is S.CHECKED_OUT
    assert L.next_state(S.CHECKED_OUT, A.RETURN, role=Role.ARCHIVIST, **kw) is S.RETURNED
    with pytest.raises(ConflictError):
        L.next_state(S.REQUESTED, A.CHECK_OUT, role=Role.ARCHIVIST, **kw)
    with pytest.raises(PermissionDeniedError):
        L.next_state(S.REQUESTED, A.APPROVE, role=Role.DISPUTE, **kw)
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        L.next_state(S.REQUESTED, A.APPROVE, role=Role.ARCHIVIST, actor="a", requester="a")
    with pytest.raises(InvalidInputError):
        L.next_state(S.REQUESTED, A.REJECT, role=Role.ARCHIVIST, reason=" ", **kw)
    assert L.next_state(S.REQUESTED, A.CANCEL, role=Role.DISPUTE, actor="lawyer",
                        requester="lawyer") is S.CANCELLED
    with pytest.raises(PermissionDeniedError):
        L.next_state(S.REQUESTED, A.CANCEL, role=Role.DISPUTE, actor="x", requester="lawyer")


def test_due_dates_and_overdue() -> None:
    assert L.due_date(T0, L.LoanReason.DISPUTE) == T0 + timedelta(days=30)
    assert L.due_date(T0, L.LoanReason.BUSINESS) == T0 + timedelta(days=7)
    assert L.due_date(T0, L.LoanReason.AUDIT, 3) == T0 + timedelta(days=3)
    with pytest.raises(InvalidInputError):
        L.due_date(T0, L.LoanReason.AUDIT, 91)
    due = T0 + timedelta(days=7)
    assert not L.is_overdue("checked_out", due, due)
    assert L.is_overdue("checked_out", due, due + timedelta(minutes=1))
    assert L.is_overdue("checked_out", due.replace(tzinfo=None), due + timedelta(seconds=1))
    assert not L.is_overdue("returned", due, due + timedelta(days=9))
    assert L.days_overdue(due, due + timedelta(minutes=1)) == 1
    assert L.days_overdue(due, due + timedelta(days=2)) == 2
    assert L.display_state("checked_out", due, due + timedelta(days=1)) == "overdue"
    assert L.parse_reason("Dispute") is L.LoanReason.DISPUTE
    with pytest.raises(InvalidInputError):
        L.parse_reason("curiosity")
