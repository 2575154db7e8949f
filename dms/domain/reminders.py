"""The six reminder categories, business time limits, urging and contract expiry.

Pure rules: every clock-dependent function takes ``now`` (or ``today``) as a
parameter, so tests fix the clock instead of sleeping.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dms.domain.checklist import Checklist, Deadlines
from dms.domain.workdays import HolidayCalendar


class Category(StrEnum):
    PENDING_ADD = "pending_add"            # 待添加信息
    PENDING_SEND = "pending_send"          # 待发送信息
    PENDING_TRANSFER = "pending_transfer"  # 待移交信息
    PENDING_SHELVING = "pending_shelving"  # 待移交卷宗
    CONTRACT_EXPIRY = "contract_expiry"    # 合同预警
    TIME_LIMIT = "time_limit"              # 业扩时限预警
    CONTRACT_EXPIRED = "contract_expired"  # 合同已到期未续签


CATEGORY_NAMES_ZH = {
    Category.PENDING_ADD: "待添加信息", Category.PENDING_SEND: "待发送信息",
    Category.PENDING_TRANSFER: "待移交信息", Category.PENDING_SHELVING: "待移交卷宗",
    Category.CONTRACT_EXPIRY: "合同预警", Category.TIME_LIMIT: "业扩时限预警",
    Category.CONTRACT_EXPIRED: "合同已到期未续签",
}

# The four categories that are simply "items in a lifecycle state".
STATE_CATEGORIES = (Category.PENDING_ADD, Category.PENDING_SEND, Category.PENDING_TRANSFER,
                    Category.PENDING_SHELVING)


class LimitStatus(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    OVERDUE = "overdue"


LIMIT_NAMES_ZH = {LimitStatus.NORMAL: "正常", LimitStatus.WARNING: "预警",
                  LimitStatus.OVERDUE: "超期"}


# --- business steps and time limits ----------------------------------------------------


def steps_of(checklist: Checklist, business_type: str) -> list[str]:
    """The steps a business of this type passes, in process order: those that produce a
    required document or carry a time limit (not every business passes every step)."""
    bt = checklist.business_type(business_type)
    used = {checklist.document_types[c].step for c in bt.required} | set(bt.time_limits)
    return [s for s in checklist.step_names() if s in used]


def current_step(checklist: Checklist, business_type: str, steps_done: set[str]) -> str | None:
    """The first step of the process not completed yet; None when the business is done.
    Steps completed out of order (back-filled history) still count as done."""
    for step in steps_of(checklist, business_type):
        if step not in steps_done:
            return step
    return None


@dataclass(frozen=True)
class StepClock:
    """The time limit of a business's current step, as two instants."""

    step: str
    started_at: datetime
    limit_days: int
    warn_at: datetime
    due_at: datetime


def step_clock(checklist: Checklist, calendar: HolidayCalendar, business_type: str,
               steps_done: set[str], last_completed_at: datetime | None) -> StepClock | None:
    """The current step's clock, started when the previous step completed. None when the
    business is done, has not started, or the current step carries no time limit."""
    step = current_step(checklist, business_type, steps_done)
    if step is None or last_completed_at is None:
        return None
    limit = checklist.business_type(business_type).time_limits.get(step)
    if not limit:
        return None
    share = checklist.deadlines.warning_share_of_time_limit
    return StepClock(step, last_completed_at, limit,
                     calendar.add_working_days(last_completed_at, limit * share),
                     calendar.add_working_days(last_completed_at, limit))


def limit_status(now: datetime, warn_at: datetime, due_at: datetime) -> LimitStatus:
    if now > due_at:
        return LimitStatus.OVERDUE
    if now >= warn_at:
        return LimitStatus.WARNING
    return LimitStatus.NORMAL


# --- urging (催办) -----------------------------------------------------------------------


class TaskKind(StrEnum):
    DIGITISE = "digitise"   # scan, upload and send a step's paper within 48 clock hours
    TRANSFER = "transfer"   # hand the paper to the archive room within 7 days


TASK_KIND_NAMES_ZH = {TaskKind.DIGITISE: "资料数字化并发送",
                      TaskKind.TRANSFER: "纸质资料移交档案室"}


def digitise_due(completed_at: datetime, deadlines: Deadlines) -> datetime:
    return completed_at + timedelta(hours=deadlines.digitise_and_send_hours)


def transfer_due(completed_at: datetime, deadlines: Deadlines) -> datetime:
    return completed_at + timedelta(days=deadlines.transfer_to_archive_room_days)


@dataclass(frozen=True)
class UrgeDecision:
    urge_no: int           # 1 for the first urge
    escalate: bool         # also tell the team leader
    next_urge_at: datetime


def plan_urge(*, due_at: datetime, urges_sent: int, now: datetime, deadlines: Deadlines,
              escalate_from_urge: int = 2) -> UrgeDecision | None:
    """Whether an open task is urged at ``now``.

    The first urge falls due at the deadline, then one every ``urge_every_hours``. From
    the ``escalate_from_urge``-th urge on the team leader is told as well. A sweep that
    ran late sends one urge, not the backlog: the next one is scheduled from ``now``.
    """
    if now < due_at:
        return None
    every = timedelta(hours=deadlines.urge_every_hours)
    scheduled = due_at + every * urges_sent
    if now < scheduled:
        return None
    urge_no = urges_sent + 1
    # Keep the rhythm anchored at the deadline: the next slot strictly after now.
    slots_passed = int((now - due_at) / every) + 1
    next_at = due_at + every * max(slots_passed, urge_no)
    return UrgeDecision(urge_no, urge_no >= escalate_from_urge, next_at)


def urge_details(checklist: Checklist, steps: list[str], documents: list[str],
                 present: set[str]) -> str:
    """What one urge line about a business adds: "；环节：受理、供电方案；缺：用电申请书、…"
    (the steps of its overdue tasks and the documents of those steps still missing)."""
    names = [checklist.steps[s].name if s in checklist.steps else s for s in steps if s]
    missing = [checklist.document_types[c].name if c in checklist.document_types else c
               for c in dict.fromkeys(documents) if c not in present]
    text = "；环节：" + "、".join(dict.fromkeys(names)) if names else ""
    return text + ("；缺：" + "、".join(missing) if missing else "")


# --- contract expiry (合同预警) ------------------------------------------------------------


def contract_end(facts: dict[str, Any] | None) -> date | None:
    """The contract end date extracted from a document (``facts['contract_end']``, ISO)."""
    raw = (facts or {}).get("contract_end")
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def expiry_window(today: date, deadlines: Deadlines) -> tuple[date, date]:
    """Contracts ending in [today, today + N days] are warned about."""
    return today, today + timedelta(days=deadlines.contract_expiry_warning_days)


def expired(facts: dict[str, Any] | None, today: date) -> bool:
    """Ended before today: when it is the customer's latest contract of its type (not
    renewed), the riskiest case, warned about on its own."""
    end = contract_end(facts)
    return end is not None and end < today


def expiring(facts: dict[str, Any] | None, today: date, deadlines: Deadlines) -> bool:
    end = contract_end(facts)
    lo, hi = expiry_window(today, deadlines)
    return end is not None and lo <= end <= hi


def expiring_document_types(checklist: Checklist) -> list[str]:
    return [c for c, t in checklist.document_types.items() if t.expires]


def end_date_unknown(checklist: Checklist, doc_type: str | None,
                     facts: dict[str, Any] | None) -> bool:
    """An agreement with a term whose end date was not read (到期日未识别): no expiry
    warning can ever be raised for it, so it is listed for a person to enter the date
    instead of being skipped by the warnings without a trace (issue 20)."""
    known = checklist.document_types.get(doc_type or "")
    return known is not None and known.expires and contract_end(facts) is None
