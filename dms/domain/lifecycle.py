"""The lifecycle of an archive item as an explicit state machine.

pending_add → pending_send → pending_review → pending_transfer → pending_shelving → archived.
Every forward move is a gate passed by a role; every gate can send the item one
step back, with a mandatory reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dms.domain.roles import Role
from dms.errors import LifecycleError, PermissionDeniedError


class State(StrEnum):
    PENDING_ADD = "pending_add"
    PENDING_SEND = "pending_send"
    PENDING_REVIEW = "pending_review"
    PENDING_TRANSFER = "pending_transfer"
    PENDING_SHELVING = "pending_shelving"
    ARCHIVED = "archived"


ORDER = list(State)

STATE_NAMES_ZH = {
    State.PENDING_ADD: "待添加", State.PENDING_SEND: "待发送",
    State.PENDING_REVIEW: "待审核", State.PENDING_TRANSFER: "待移交",
    State.PENDING_SHELVING: "待移交卷宗", State.ARCHIVED: "已归档",
}


@dataclass(frozen=True)
class Gate:
    source: State
    target: State
    roles: frozenset[Role]
    name: str


GATES: dict[State, Gate] = {g.source: g for g in (
    Gate(State.PENDING_ADD, State.PENDING_SEND, frozenset({Role.HANDLER, Role.STATION}),
         "digitised"),
    Gate(State.PENDING_SEND, State.PENDING_REVIEW, frozenset({Role.HANDLER}), "self_check"),
    Gate(State.PENDING_REVIEW, State.PENDING_TRANSFER, frozenset({Role.COLLECTOR}), "review"),
    Gate(State.PENDING_TRANSFER, State.PENDING_SHELVING, frozenset({Role.ARCHIVIST}), "receipt"),
    Gate(State.PENDING_SHELVING, State.ARCHIVED, frozenset({Role.ARCHIVIST}), "shelved"),
)}


@dataclass(frozen=True)
class Transition:
    source: State
    target: State
    actor: str
    reason: str = ""


def advance(state: State, *, actor: str, role: Role, missing_documents: list[str] | None = None,
            previous_gate_actor: str | None = None) -> Transition:
    """Pass the gate out of ``state``.

    ``missing_documents`` blocks leaving pending_send (completeness), and
    ``previous_gate_actor`` enforces four-eyes between self-check and review.
    """
    gate = GATES.get(state)
    if gate is None:
        raise LifecycleError(f"{state} is final")
    if role not in gate.roles and role != Role.ADMIN:
        raise PermissionDeniedError(f"role {role} cannot pass gate {gate.name} from {state}")
    if state == State.PENDING_SEND and missing_documents:
        raise LifecycleError("required documents are missing: " + ", ".join(missing_documents))
    if state == State.PENDING_REVIEW and previous_gate_actor == actor:
        raise PermissionDeniedError("four-eyes: the self-checker cannot also review this item")
    return Transition(state, gate.target, actor)


def send_back(state: State, *, actor: str, role: Role, reason: str) -> Transition:
    """Return the item one step back; a reason is mandatory."""
    if not reason.strip():
        raise LifecycleError("a return needs a reason")
    idx = ORDER.index(state)
    if idx == 0:
        raise LifecycleError(f"{state} is the first state; nothing to return to")
    gate = GATES[ORDER[idx - 1]]
    if role not in gate.roles and role != Role.ADMIN and not _reviewer_of(state, role):
        raise PermissionDeniedError(f"role {role} cannot return an item from {state}")
    return Transition(state, ORDER[idx - 1], actor, reason.strip())


def _reviewer_of(state: State, role: Role) -> bool:
    # The one who would pass the gate out of a state may also return from it.
    gate = GATES.get(state)
    return gate is not None and role in gate.roles
