"""The lifecycle of an archive item as an explicit state machine.

pending_add → pending_send → pending_review → pending_transfer → pending_shelving → archived.
Every forward move is a gate passed by a role; every gate can send the item one
step back, with a mandatory reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from dms.domain.access import Action, in_scope, scope
from dms.domain.roles import Role
from dms.errors import InvalidInputError, LifecycleError, PermissionDeniedError


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


GATE_NAMES_ZH = {
    "digitised": "已数字化", "self_check": "自查发送", "review": "班组审核",
    "receipt": "档案室接收", "shelved": "装盒上架",
}


def gate_out_of(state: State) -> Gate | None:
    return GATES.get(state)


def may_act_on(role: Role, *, actor_team_id: int | None, item_team_id: int | None) -> bool:
    """Handlers and collectors work on their own team's items; the archive room and
    administrators on every team's."""
    return in_scope(scope(role, Action.ITEM_GATE), actor_team_id=actor_team_id,
                    object_team_id=item_team_id)


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


def reopen(state: State, *, reason: str) -> Transition | None:
    """New paper arose (a later business step completed): the item goes back to
    pending_add so it is digitised, reviewed and transferred again. Done by the system."""
    if state == State.PENDING_ADD:
        return None
    return Transition(state, State.PENDING_ADD, "system", reason)


# --- inbound business events ----------------------------------------------------------

@dataclass(frozen=True)
class StepEvent:
    """"Business step S of business B (type T) of customer C completed at X by handler H
    (team K)", as the marketing system reports it."""

    event_id: str
    customer_no: str
    business_no: str
    business_type: str
    step: str
    completed_at: datetime
    handler: str
    team: str = ""
    agent_applied: bool = False
    # Who the customer is, for a customer the archive does not know yet (a new
    # connection is announced before its paper is scanned).
    customer_name: str = ""
    customer_address: str = ""
    customer_kind: str = ""


EVENT_FIELDS = ("event_id", "customer_no", "business_no", "business_type", "step",
                "completed_at", "handler")
# Optional fields (the same names and limits as the API's schema).
CUSTOMER_FIELDS = {"customer_name": 64, "customer_address": 200, "customer_kind": 32}


EARLIEST_EVENT_YEAR, LATEST_EVENT_YEAR = 1970, 2100


def _check_storable(value: object, where: str) -> None:
    """Values a database can store: no NUL (PostgreSQL refuses it in text and JSON), no
    unpaired surrogate (not encodable as UTF-8), no NaN or Infinity (not JSON). Found by
    tests/fuzz as 500s on PostgreSQL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInputError(f"{where} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(f"{where} contains an unpaired surrogate "
                                    "(not valid Unicode text)") from None
    elif isinstance(value, float) and not math.isfinite(value):
        # Python's JSON reader takes NaN and Infinity; JSON (and PostgreSQL) does not.
        raise InvalidInputError(f"{where} is {value}, not a JSON number")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_storable(k, f"{where}: a field name")
            _check_storable(v, f"event field {k}" if where == "event" else where)
    elif isinstance(value, list):
        for v in value:
            _check_storable(v, where)


def parse_step_event(payload: object, *, default_tz: tzinfo) -> StepEvent:
    """Validate the shape of an event (references are checked by the service). A naive
    ``completed_at`` is read in ``default_tz`` (the utility's local time)."""
    if not isinstance(payload, dict):
        raise InvalidInputError("an event must be a JSON object",
                                hint="fields: " + ", ".join(EVENT_FIELDS))
    _check_storable(payload, "event")
    missing = [f for f in EVENT_FIELDS if not str(payload.get(f) or "").strip()]
    if missing:
        raise InvalidInputError("event is missing fields: " + ", ".join(missing),
                                hint="required: " + ", ".join(EVENT_FIELDS))
    values = {f: str(payload[f]).strip() for f in EVENT_FIELDS}
    for f, limit in (("event_id", 128), ("customer_no", 32), ("business_no", 32),
                     ("business_type", 32), ("step", 32), ("handler", 64)):
        if len(values[f]) > limit:
            raise InvalidInputError(f"event field {f} is longer than {limit} characters")
    try:
        at = datetime.fromisoformat(values["completed_at"].replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"completed_at {values['completed_at']!r} is not an ISO 8601 "
                                "date-time", hint="e.g. 2026-03-02T10:00:00+08:00") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=default_tz)
    if not EARLIEST_EVENT_YEAR <= at.year <= LATEST_EVENT_YEAR:
        # Deadlines are computed from it in working days; year 9999 overflowed (tests/fuzz).
        raise InvalidInputError(f"completed_at {values['completed_at']!r} is out of range",
                                hint=f"a date between {EARLIEST_EVENT_YEAR} and "
                                     f"{LATEST_EVENT_YEAR}")
    agent = payload.get("agent_applied", False)
    if isinstance(agent, str):
        agent = agent.strip().lower() in ("1", "true", "yes", "y", "是")
    customer = {}
    for f, limit in CUSTOMER_FIELDS.items():
        customer[f] = str(payload.get(f) or "").strip()
        if len(customer[f]) > limit:
            raise InvalidInputError(f"event field {f} is longer than {limit} characters")
    return StepEvent(values["event_id"], values["customer_no"], values["business_no"],
                     values["business_type"], values["step"], at, values["handler"],
                     str(payload.get("team") or "").strip(), bool(agent), **customer)
