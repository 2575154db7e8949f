"""The inbox (six reminder categories for one person) and the urging sweep.

Set-based SQL throughout: the inbox is a handful of indexed count/first-page queries
scoped to the user's items (handler), team (collector) or everyone (archive room,
managers); the sweep finds due tasks with one index range scan and writes urges with
executemany. Notifications leave only after commit.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import (DateTime, Integer, Select, Table, bindparam, case, column, delete, func,
                        insert, literal, select, union_all, update, values)
from sqlalchemy.orm import Session

from dms.db.models import Business, Customer, Document, Task, User
from dms.db.models_lifecycle import ContractExpiry, Urge
from dms.db.session import after_commit, session_scope
from dms.domain import reminders as rules
from dms.domain.checklist import Checklist
from dms.domain.lifecycle import ORDER, State
from dms.domain.reminders import Category, LimitStatus
from dms.domain.access import Action, sees_all_teams
from dms.domain.roles import Role
from dms.services.container import Services
from dms.services.lending import OverdueLoan, overdue_loans_for
from dms.services.lifecycle import as_utc
from dms.services.notify import Notice, Notifier

PAGE = 10
_BATCH = 2000  # rows per UPDATE … FROM (VALUES …) statement on PostgreSQL
_URGES = cast(Table, Urge.__table__)
_EXPIRIES = cast(Table, ContractExpiry.__table__)
_TASKS = cast(Table, Task.__table__)


@dataclass(frozen=True)
class Scope:
    """Whose items a person sees: their own (handler), their team's, or all."""

    handler_id: int | None = None
    team_id: int | None = None
    everyone: bool = False

    @staticmethod
    def of(user: User) -> Scope:
        role = Role(user.role)
        if sees_all_teams(role, Action.HOME):
            return Scope(everyone=True)
        if role == Role.HANDLER:
            return Scope(handler_id=user.id, team_id=user.team_id)
        return Scope(team_id=user.team_id if user.team_id is not None else -1)

    def items(self, stmt: Any) -> Any:
        if self.everyone:
            return stmt
        if self.handler_id is not None:
            return stmt.where(Business.handler_id == self.handler_id)
        return stmt.where(Business.team_id == self.team_id)

    def contracts(self, stmt: Any) -> Any:
        if self.everyone:
            return stmt
        return stmt.where(ContractExpiry.team_id == (self.team_id if self.team_id else -1))


@dataclass
class Inbox:
    counts: dict[str, int]
    lists: dict[str, list[dict[str, Any]]]
    limit_counts: dict[str, int]
    review_count: int
    urges: list[dict[str, Any]] = field(default_factory=list)
    # Paper originals past their due date (借阅逾期): the borrower's own, or all for the
    # archive room; the first page and the total.
    overdue_loans: list[OverdueLoan] = field(default_factory=list)
    overdue_loan_count: int = 0


_ITEM_COLS = (Business.business_no, Business.business_type, Business.archive_state,
              Business.state_since, Business.current_step, Business.step_warn_at,
              Business.step_due_at, Customer.customer_no, Customer.name)


def _rows(session: Session, stmt: Select[Any], now: datetime) -> list[dict[str, Any]]:
    out = []
    for r in session.execute(stmt).mappings():
        row = dict(r)
        if row["step_due_at"] is not None:
            row["limit_status"] = rules.limit_status(now, as_utc(row["step_warn_at"]),
                                                     as_utc(row["step_due_at"]))
        out.append(row)
    return out


def inbox_for(session: Session, user: User, checklist: Checklist, now: datetime, *,
              page_size: int = PAGE) -> Inbox:
    """Counts of the six categories and the first page of each list in five round trips:
    one GROUP BY for the state counts, one for the time-limit counts, one UNION ALL of the
    five item lists, one for contracts (count as a window), one for the person's urges."""
    now = as_utc(now)
    scope = Scope.of(user)
    in_flight = [State(c.value) for c in rules.STATE_CATEGORIES] + [State.PENDING_REVIEW]
    by_state = dict(session.execute(scope.items(
        select(Business.archive_state, func.count()).where(Business.archive_state.in_(in_flight))
        .group_by(Business.archive_state))).all())
    counts: dict[str, int] = {c: int(by_state.get(c.value, 0)) for c in rules.STATE_CATEGORIES}
    # Business time limit: warning and overdue from the stored instants of the current step.
    total, overdue, late = session.execute(scope.items(
        select(func.count(), func.coalesce(func.sum(case((Business.step_due_at < now, 1),
                                                         else_=0)), 0),
               func.coalesce(func.sum(case((Business.step_warn_at <= now, 1), else_=0)), 0))
        .where(Business.step_due_at.is_not(None)))).one()
    limit_counts = {LimitStatus.OVERDUE.value: int(overdue),
                    LimitStatus.WARNING.value: int(late) - int(overdue),
                    LimitStatus.NORMAL.value: int(total) - int(late)}
    counts[Category.TIME_LIMIT] = int(late)
    parts = []
    for cat in rules.STATE_CATEGORIES:
        parts.append(scope.items(_listed(cat).where(Business.archive_state == cat.value))
                     .order_by(Business.state_since, Business.id).limit(page_size))
    parts.append(scope.items(_listed(Category.TIME_LIMIT).where(
        Business.step_due_at.is_not(None), Business.step_warn_at <= now))
        .order_by(Business.step_due_at, Business.id).limit(page_size))
    # Each part keeps its own ORDER BY/LIMIT inside a subquery (SQLite requires it).
    union = union_all(*[select(p.subquery()) for p in parts]).subquery()
    lists: dict[str, list[dict[str, Any]]] = {c: [] for c in Category}
    for row in _rows(session, select(union), now):
        lists[row.pop("category")].append(row)
    for cat in rules.STATE_CATEGORIES:
        lists[cat].sort(key=lambda r: (as_utc(r["state_since"]), r["business_no"]))
    lists[Category.TIME_LIMIT].sort(key=lambda r: (as_utc(r["step_due_at"]), r["business_no"]))
    for cat in (Category.CONTRACT_EXPIRY, Category.CONTRACT_EXPIRED):
        contracts = [dict(r) for r in session.execute(
            _contracts(scope, cat, now.date(), checklist, total=True)
            .limit(page_size)).mappings()]
        counts[cat] = int(contracts[0]["total"]) if contracts else 0
        lists[cat] = [{**r, "days_left": (_as_date(r["ends_on"]) - now.date()).days}
                      for r in contracts]
    urges = [dict(r) for r in session.execute(
        select(Urge.at, Urge.kind, Urge.urge_no, Urge.escalated, Urge.delivered,
               Urge.message, Business.business_no)
        .join(Business, Business.id == Urge.business_id)
        .where(Urge.recipient_id == user.id).order_by(Urge.at.desc(), Urge.id.desc())
        .limit(page_size)).mappings()]
    # Few by nature (each is a volume physically out of the room): fetched whole, counted here.
    loans = overdue_loans_for(session, user, now)
    return Inbox(counts, lists, limit_counts, int(by_state.get(State.PENDING_REVIEW.value, 0)),
                 urges, loans[:page_size], len(loans))


def _contracts(scope: Scope, cat: Category, today: date, checklist: Checklist,
               total: bool = False) -> Any:
    """The customers' latest contracts ending within the warning window, or already
    ended (expired and not renewed: a renewal is a later contract and replaces the row)."""
    lo, hi = rules.expiry_window(today, checklist.deadlines)
    cols: list[Any] = [ContractExpiry.ends_on, ContractExpiry.doc_type,
                       ContractExpiry.document_id, Customer.customer_no, Customer.name]
    if total:
        cols.append(func.count().over().label("total"))
    when = ContractExpiry.ends_on.between(lo, hi) if cat == Category.CONTRACT_EXPIRY \
        else ContractExpiry.ends_on < lo
    # Expired ones, most recently ended first: the freshest lapse is the most urgent.
    order = (ContractExpiry.ends_on if cat == Category.CONTRACT_EXPIRY
             else ContractExpiry.ends_on.desc())
    return scope.contracts(select(*cols).join(Customer, Customer.id == ContractExpiry.customer_id)
                           .where(when)).order_by(order, ContractExpiry.id)


def _listed(cat: Category) -> Any:
    return select(*_ITEM_COLS, literal(cat.value).label("category")) \
        .join(Customer, Customer.id == Business.customer_id)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def category_page(session: Session, user: User, checklist: Checklist, category: Category,
                  now: datetime, *, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """A further page of one category's list (the inbox shows the first)."""
    scope = Scope.of(user)
    now = as_utc(now)
    base = select(*_ITEM_COLS).join(Customer, Customer.id == Business.customer_id)
    if category in rules.STATE_CATEGORIES:
        stmt = base.where(Business.archive_state == category.value) \
            .order_by(Business.state_since, Business.id)
    elif category == Category.TIME_LIMIT:
        stmt = base.where(Business.step_due_at.is_not(None)) \
            .order_by(Business.step_due_at, Business.id)
    else:
        rows = session.execute(_contracts(scope, category, now.date(), checklist)
                               .offset(offset).limit(limit))
        return [{**dict(r), "days_left": (_as_date(r["ends_on"]) - now.date()).days}
                for r in rows.mappings()]
    return _rows(session, scope.items(stmt).offset(offset).limit(limit), now)


def review_queue(session: Session, user: User, *, limit: int = 200) -> list[dict[str, Any]]:
    """What this person passes next: collectors review (gate 2), the archive room
    receives (gate 3) and shelves."""
    role = Role(user.role)
    states = {Role.COLLECTOR: [State.PENDING_REVIEW],
              Role.ARCHIVIST: [State.PENDING_TRANSFER, State.PENDING_SHELVING],
              Role.ADMIN: [State.PENDING_REVIEW, State.PENDING_TRANSFER,
                           State.PENDING_SHELVING]}.get(role, [])
    if not states:
        return []
    stmt = select(*_ITEM_COLS).join(Customer, Customer.id == Business.customer_id) \
        .where(Business.archive_state.in_(states))
    return [dict(r) for r in session.execute(
        Scope.of(user).items(stmt).order_by(Business.state_since, Business.id)
        .limit(limit)).mappings()]


# --- the sweep ---------------------------------------------------------------------------


def refresh_contract_expiries(session: Session, checklist: Checklist) -> int:
    """Bring the contract digest up to date: per customer and expiring document type, the
    latest extracted ``contract_end`` (a renewed contract supersedes the old one). Only
    differences are written, so a sweep with nothing new writes nothing."""
    types = rules.expiring_document_types(checklist)
    facts = Document.facts
    extracted = select(
        Document.id, Document.customer_id, Document.doc_type,
        func.substr(facts["contract_end"].as_string(), 1, 10).label("ends_on"),
        # Which contract is the latest: its own start or signing date, else its end.
        func.substr(func.coalesce(facts["contract_start"].as_string(),
                                  facts["signed_date"].as_string(),
                                  facts["contract_end"].as_string(), ""), 1, 10)
        .label("dated")).where(Document.doc_type.in_(types)).subquery()
    # The latest contract per customer and type counts, with or without an end date:
    # a later contract of the same type (a renewal, or one with no term) clears both
    # warnings of the earlier one.
    latest = select(extracted, func.row_number().over(
        partition_by=(extracted.c.customer_id, extracted.c.doc_type),
        order_by=(extracted.c.dated.desc(), extracted.c.id.desc())).label("rn")).subquery()
    ranked = select(latest).where(latest.c.ends_on.is_not(None),
                                  latest.c.ends_on != "").subquery()
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    for customer_id, doc_type, document_id, team_id, ends_on in session.execute(
            select(ranked.c.customer_id, ranked.c.doc_type, ranked.c.id, Customer.team_id,
                   ranked.c.ends_on)
            .join(Customer, Customer.id == ranked.c.customer_id).where(ranked.c.rn == 1)):
        try:
            day = date.fromisoformat(ends_on)
        except (TypeError, ValueError):
            continue  # an unreadable extracted date is not a date: no warning
        wanted[(customer_id, doc_type)] = {"customer_id": customer_id, "doc_type": doc_type,
                                           "document_id": document_id, "team_id": team_id,
                                           "ends_on": day}
    have = {(r.customer_id, r.doc_type): r for r in session.execute(
        select(_EXPIRIES.c.id, _EXPIRIES.c.customer_id, _EXPIRIES.c.doc_type,
               _EXPIRIES.c.document_id, _EXPIRIES.c.team_id, _EXPIRIES.c.ends_on))}
    gone = [{"xid": r.id} for k, r in have.items() if k not in wanted]
    changed = [{"xid": have[k].id, "d": w["document_id"], "t": w["team_id"], "e": w["ends_on"]}
               for k, w in wanted.items() if k in have and (
                   have[k].document_id, have[k].team_id, _as_date(have[k].ends_on))
               != (w["document_id"], w["team_id"], w["ends_on"])]
    added = [w for k, w in wanted.items() if k not in have]
    conn = session.connection()
    if gone:
        conn.execute(delete(_EXPIRIES).where(_EXPIRIES.c.id == bindparam("xid")), gone)
    if changed:
        conn.execute(update(_EXPIRIES).where(_EXPIRIES.c.id == bindparam("xid"))
                     .values(document_id=bindparam("d"), team_id=bindparam("t"),
                             ends_on=bindparam("e")), changed)
    _insert_rows(conn, _EXPIRIES, added)
    return len(wanted)


@dataclass
class SweepReport:
    tasks_closed: int = 0
    urges: int = 0             # delivered to someone of the task's team
    escalations: int = 0       # businesses whose urge also went to a team leader
    undeliverable: int = 0     # businesses nobody in the team could be urged about
    notices: int = 0
    contracts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


KIND_ZH = rules.TASK_KIND_NAMES_ZH  # urges are written in Chinese, once, to every reader


def sweep(session: Session, checklist: Checklist, now: datetime, notifier: Notifier | None,
          *, escalate_from_urge: int = 2) -> SweepReport:
    report = SweepReport()
    now = as_utc(now)
    clock = [time.perf_counter()]

    def _lap() -> float:
        # Phase timings go into the report: the sweep's cost is visible in every run.
        t, clock[0] = clock[0], time.perf_counter()
        return round(clock[0] - t, 3)

    # Safety net: close tasks whose item already passed their gate by any path.
    for kind, past in ((rules.TaskKind.DIGITISE, State.PENDING_REVIEW),
                       (rules.TaskKind.TRANSFER, State.PENDING_SHELVING)):
        later = [s.value for s in ORDER[ORDER.index(past):]]
        # Driven by the open tasks (few), probing their business by primary key.
        closed = session.execute(
            update(Task).where(Task.status == "open", Task.kind == kind, select(Business.id)
                               .where(Business.id == Task.business_id,
                                      Business.archive_state.in_(later)).exists())
            .values(status="done", closed_at=now, next_urge_at=None)
            .execution_options(synchronize_session=False))
        report.tasks_closed += int(getattr(closed, "rowcount", 0) or 0)
    report.seconds["close"] = _lap()
    report.contracts = refresh_contract_expiries(session, checklist)
    report.seconds["contracts"] = _lap()
    due = session.execute(
        select(Task.id, Task.kind, Task.business_id, Task.assignee_id, Task.team_id,
               Task.due_at, Task.urge_count, Task.step, Task.details, Business.business_no,
               Customer.customer_no, Customer.name)
        .join(Business, Business.id == Task.business_id)
        .join(Customer, Customer.id == Business.customer_id)
        .where(Task.status == "open", Task.next_urge_at <= now)
        .order_by(Task.business_id, Task.id)).all()
    report.seconds["select_due"] = _lap()
    if not due:
        return report
    staff = session.execute(select(User.id, User.username, User.email, User.role, User.team_id,
                                   User.is_team_leader).where(User.active.is_(True))).all()
    users = {u.id: u for u in staff}
    people = _Recipients(staff)
    present = _present_types(session, select(Task.business_id).where(
        Task.status == "open", Task.next_urge_at <= now, Task.kind == rules.TaskKind.DIGITISE))
    urge_rows: list[dict[str, Any]] = []
    task_rows: list[dict[str, Any]] = []
    digest: dict[int, list[str]] = defaultdict(list)
    lost: dict[int, list[str]] = defaultdict(list)
    groups: dict[tuple[int, str], list[tuple[Any, rules.UrgeDecision]]] = defaultdict(list)
    for t in due:
        plan = rules.plan_urge(due_at=as_utc(t.due_at), urges_sent=t.urge_count, now=now,
                               deadlines=checklist.deadlines,
                               escalate_from_urge=escalate_from_urge)
        if plan is not None:
            groups[(t.business_id, t.kind)].append((t, plan))
    for (_bid, task_kind), items in groups.items():
        # One line per business and kind, naming the steps and what is still missing,
        # however many steps' tasks are overdue.
        first, plan = items[0][0], max((p for _t, p in items), key=lambda p: p.urge_no)
        hours = max(int((now - as_utc(t.due_at)).total_seconds() // 3600) for t, _p in items)
        msg = (f"第{plan.urge_no}次催办：{first.business_no}（{first.customer_no} {first.name}）"
               f"{KIND_ZH.get(rules.TaskKind(task_kind), task_kind)}已超期 {hours} 小时"
               + rules.urge_details(checklist, [t.step for t, _p in items],
                                    [c for t, _p in items
                                     for c in (t.details or {}).get("documents", [])],
                                    present.get(first.business_id, set())))
        primary = [t.assignee_id for t, _p in items if t.assignee_id] \
            or people.collectors.get(first.team_id, [])
        leaders = people.leaders.get(first.team_id, [])
        recipients = [(uid, False) for uid in dict.fromkeys(primary or leaders)]
        if plan.escalate and primary and leaders:
            recipients += [(uid, True) for uid in leaders]
            report.escalations += 1
        delivered = bool(recipients)
        if not delivered:
            # Nobody in the team can receive it: the archive room (or an administrator)
            # is told instead, shown as undeliverable, and the urge is not counted as sent.
            msg = "【无法送达：班组无收集员或班长】" + msg
            recipients = [(uid, False) for uid in people.fallback(first.team_id)]
            report.undeliverable += 1
        for uid, escalated in dict(recipients).items():
            urge_rows.append({"task_id": first.id, "business_id": first.business_id,
                              "recipient_id": uid, "kind": task_kind,
                              "urge_no": plan.urge_no,
                              "escalated": escalated, "delivered": delivered,
                              "message": msg, "at": now})
            (digest if delivered else lost)[uid].append(msg)
        for t, p in items:
            task_rows.append({"tid": t.id, "n": p.urge_no if delivered else t.urge_count,
                              "next": p.next_urge_at})
    report.seconds["plan"] = _lap()
    # Core executemany (batched VALUES) rather than the ORM's bulk paths: no per-row
    # bookkeeping for tens of thousands of rows.
    conn = session.connection()
    _insert_rows(conn, _URGES, urge_rows)
    report.seconds["insert_urges"] = _lap()
    _mark_urged(conn, task_rows, now)
    report.seconds["update_tasks"] = _lap()
    report.urges = sum(1 for r in urge_rows if r["delivered"])
    notices = [Notice(users[uid].username, users[uid].email or "",
                      f"[档案催办] {len(msgs)} 项档案工作已超期", "\n".join(msgs))
               for uid, msgs in digest.items() if uid in users]
    notices += [Notice(users[uid].username, users[uid].email or "",
                       f"[档案催办] {len(msgs)} 项催办无人接收，请安排", "\n".join(msgs))
                for uid, msgs in lost.items() if uid in users]
    report.notices = len(notices)
    if notifier is not None and notices:
        after_commit(session, partial(_deliver, notifier, notices))
    return report


class _Recipients:
    """Who can be urged, per team: collectors, leaders; and who is told when nobody
    can (the team's archivist, else any archivist, else an administrator)."""

    def __init__(self, staff: Any) -> None:
        self.collectors: dict[int | None, list[int]] = defaultdict(list)
        self.leaders: dict[int | None, list[int]] = defaultdict(list)
        self.archivists: dict[int | None, list[int]] = defaultdict(list)
        self.admins: list[int] = []
        for u in staff:
            if u.role == Role.COLLECTOR:
                self.collectors[u.team_id].append(u.id)
            if u.is_team_leader:
                self.leaders[u.team_id].append(u.id)
            if u.role == Role.ARCHIVIST:
                self.archivists[u.team_id].append(u.id)
            if u.role == Role.ADMIN:
                self.admins.append(u.id)

    def fallback(self, team_id: int | None) -> list[int]:
        if self.archivists.get(team_id):
            return self.archivists[team_id]
        anyone = [uid for ids in self.archivists.values() for uid in ids]
        return anyone or self.admins


def _present_types(session: Session, business_ids: Select[Any]) -> dict[int, set[str]]:
    """The classified document types of the businesses ``business_ids`` selects (a
    subquery, not a list: a sweep may urge about hundreds of thousands of businesses)."""
    out: dict[int, set[str]] = defaultdict(set)
    for bid, code in session.execute(select(Document.business_id, Document.doc_type).where(
            Document.business_id.in_(business_ids), Document.doc_type.is_not(None))):
        if bid is not None and code is not None:
            out[bid].add(code)
    return out


def _insert_rows(conn: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    # executemany: SQLAlchemy batches it into multi-row INSERTs where the driver needs it.
    if rows:
        conn.execute(insert(table), rows)


def _mark_urged(conn: Any, rows: list[dict[str, Any]], now: datetime) -> None:
    if conn.dialect.name != "postgresql":
        # In-process SQLite: a plain executemany is the cheapest way.
        conn.execute(update(_TASKS).where(_TASKS.c.id == bindparam("tid")).values(
            urge_count=bindparam("n"), last_urged_at=now, next_urge_at=bindparam("next")), rows)
        return
    for i in range(0, len(rows), _BATCH):
        # One UPDATE … FROM (VALUES …) per batch: psycopg2 would otherwise send one
        # statement (one round trip) per row.
        batch = values(column("tid", Integer), column("n", Integer),
                       column("nxt", DateTime(timezone=True)), name="urged") \
            .data([(r["tid"], r["n"], r["next"]) for r in rows[i:i + _BATCH]]).cte()
        conn.execute(update(_TASKS).where(_TASKS.c.id == batch.c.tid).values(
            urge_count=batch.c.n, last_urged_at=now, next_urge_at=batch.c.nxt))


def _deliver(notifier: Notifier, notices: list[Notice]) -> None:
    notifier.send(notices)


def urges_for_business(session: Session, business_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(
        select(Urge.at, Urge.kind, Urge.urge_no, Urge.escalated, Urge.delivered,
               Urge.message, User.username, User.display_name)
        .join(User, User.id == Urge.recipient_id, isouter=True)
        .where(Urge.business_id == business_id).order_by(Urge.at, Urge.id)).mappings()]



def run_sweep(services: Services, now: datetime) -> SweepReport:
    """One sweep in one transaction; notices leave after the commit (CLI and beat)."""
    from dms.services.deadlines import follow_calendar
    from dms.services.lifecycle import calendar_for
    from dms.services.notify import make_notifier

    notifier = make_notifier(services.settings)
    with session_scope(services.sessions) as s:
        # An edited holidays.yaml moves open deadlines before anything is judged overdue.
        follow_calendar(s, services.checklist, calendar_for(services.settings), now)
        return sweep(s, services.checklist, now, notifier)
