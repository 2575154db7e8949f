import pytest

from dms.domain.lifecycle import State, advance, send_back
from dms.domain.locations import parse_slot_code, unit_slots
from dms.domain.roles import Role
from dms.errors import InvalidInputError, LifecycleError, PermissionDeniedError


def test_full_forward_path() -> None:
    path = [(State.PENDING_ADD, Role.HANDLER, "h"), (State.PENDING_SEND, Role.HANDLER, "h"),
            (State.PENDING_REVIEW, Role.COLLECTOR, "c"),
            (State.PENDING_TRANSFER, Role.ARCHIVIST, "a"),
            (State.PENDING_SHELVING, Role.ARCHIVIST, "a")]
    state = State.PENDING_ADD
    for expected, role, actor in path:
        assert state == expected
        state = advance(state, actor=actor, role=role, previous_gate_actor="h").target
    assert state == State.ARCHIVED
    with pytest.raises(LifecycleError, match="final"):
        advance(state, actor="a", role=Role.ARCHIVIST)


def test_completeness_blocks_sending() -> None:
    with pytest.raises(LifecycleError, match="GYDHT"):
        advance(State.PENDING_SEND, actor="h", role=Role.HANDLER, missing_documents=["GYDHT"])


def test_four_eyes() -> None:
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        advance(State.PENDING_REVIEW, actor="x", role=Role.COLLECTOR, previous_gate_actor="x")


def test_wrong_role() -> None:
    with pytest.raises(PermissionDeniedError):
        advance(State.PENDING_REVIEW, actor="h", role=Role.HANDLER)


def test_return_needs_reason_and_goes_one_step_back() -> None:
    with pytest.raises(LifecycleError, match="reason"):
        send_back(State.PENDING_REVIEW, actor="c", role=Role.COLLECTOR, reason="  ")
    t = send_back(State.PENDING_REVIEW, actor="c", role=Role.COLLECTOR, reason="第2页模糊")
    assert (t.target, t.reason) == (State.PENDING_SEND, "第2页模糊")


def test_location_codes() -> None:
    code = parse_slot_code("r01-j03-a-05-2")
    assert str(code) == "R01-J03-A-05-2"
    with pytest.raises(InvalidInputError):
        parse_slot_code("R1-J3-C-5-2")
    slots = unit_slots(1, 3, sections=10, levels=6)
    assert len(slots) == 120 and len(set(slots)) == 120
