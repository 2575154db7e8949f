"""Checklist gap report (缺件报告): per business, every document type the checklist
requires, whether it is present (confirmed by a person, classified automatically, or
only with low confidence) and, when missing, since when.

Computed in the database in one set-based query: the checklist becomes a small
``requirements`` CTE (business type, document type, step, conditional) joined to the
businesses, their completed steps and their documents. Rows are streamed
(``yield_per``: a server-side cursor on PostgreSQL), so memory stays flat however
many customers are reported.

Definitions (mirroring ``Checklist.required_for(business_type, steps_done, agent=…)``):

* a business with step records requires only the types of the steps completed so far;
  a business without any step record requires the whole list;
* the power of attorney (``conditional_on_agent``, SQWTS) is required only when an agent
  applied;
* status: ``confirmed`` (a person confirmed a document of that type), ``classified`` (the
  classifier's confidence is at least ``classify_review_below``), ``low_confidence``
  (below, or no confidence), ``missing`` (no document of the business has that type);
* open since: for a missing type, when the step that requires it was completed (the
  business's creation when it has no step records).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (CTE, ColumnElement, Integer, Select, String, and_, case, column, exists,
                        bindparam, func, or_, select, table, text, true)
from sqlalchemy.orm import Session, aliased

from dms.db.models import Business, BusinessStepDone, Customer, Document, Team, User
from dms.domain.checklist import Checklist
from dms.errors import ConfigError

MISSING, LOW, CLASSIFIED, CONFIRMED = "missing", "low_confidence", "classified", "confirmed"
STATUS_NAMES_ZH = {MISSING: "缺失", LOW: "低置信度", CLASSIFIED: "未确认", CONFIRMED: "已确认"}
COLUMNS = ("customer_no", "customer_name", "team", "handler", "business_no", "business_type",
           "doc_type", "doc_name", "status", "document_id", "confidence", "open_since")
STREAM_BATCH = 5000


@dataclass(frozen=True)
class GapFilter:
    """What a report covers; ``None`` = no restriction. ``teams`` restricts to the teams a
    user may see (``allowed_teams()``); ``team`` is the one team asked for."""

    customer_no: str | None = None
    team: str | None = None
    teams: tuple[str, ...] | None = None
    business_type: str | None = None
    handler_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    only_gaps: bool = False  # missing and not-yet-confirmed rows only


_CODE = re.compile(r"^[A-Za-z0-9_]+$")
_REQ_COLUMNS = (column("business_type", String), column("doc_type", String),
                column("step", String), column("ord", Integer), column("conditional", Integer))
_SQLITE_REQ = table("dms_requirements", *(column(c.name, c.type) for c in _REQ_COLUMNS))


def requirement_rows(checklist: Checklist) -> list[tuple[str, str, str, int, int]]:
    """The checklist as rows (business_type, doc_type, step, ord, conditional 0/1)."""
    rows: list[tuple[str, str, str, int, int]] = []
    poa = checklist.document_types.get(checklist.conditional_on_agent)
    for bt in checklist.business_types.values():
        for i, code in enumerate(bt.required):
            rows.append((bt.code, code, checklist.document_types[code].step, i, 0))
        if poa is not None and poa.code not in bt.required:
            rows.append((bt.code, poa.code, poa.step, len(bt.required), 1))
    return rows


def requirements_cte(checklist: Checklist) -> CTE:
    """The requirements as one literal ``SELECT … UNION ALL …`` CTE: building ~80 bound
    selects per call cost more than the one-customer query itself. The codes come from the
    checklist file and are checked to be plain identifiers before they are put into SQL."""
    rows = requirement_rows(checklist)
    for r in rows:
        for code in r[:3]:
            if not _CODE.match(code):
                raise ConfigError(f"checklist code {code!r} is not a plain identifier")
    sql = " UNION ALL ".join(
        f"SELECT '{bt}' AS business_type, '{code}' AS doc_type, '{step}' AS step, "
        f"{order} AS ord, {cond} AS conditional" for bt, code, step, order, cond in rows)
    return text(sql).columns(*_REQ_COLUMNS).cte("requirements")


def requirements_source(session: Session, checklist: Checklist) -> Any:
    """What the queries join the checklist from. PostgreSQL hash-joins the CTE; SQLite
    would scan the CTE for every business (no automatic index on a compound subquery:
    25× slower at 300,000 businesses), so there it is an indexed temporary table of this
    connection, refilled on each call (about 80 rows)."""
    if session.get_bind().dialect.name != "sqlite":
        return requirements_cte(checklist)
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS dms_requirements (business_type "
                         "TEXT, doc_type TEXT, step TEXT, ord INTEGER, conditional INTEGER)"))
    session.execute(text("CREATE INDEX IF NOT EXISTS temp.ix_dms_requirements "
                         "ON dms_requirements (business_type)"))
    session.execute(_SQLITE_REQ.delete())
    session.execute(_SQLITE_REQ.insert(), [dict(zip(("business_type", "doc_type", "step",
                                                     "ord", "conditional"), r, strict=True))
                                           for r in requirement_rows(checklist)])
    return _SQLITE_REQ


def _pairs_query(req: Any, review_below: float) -> Select[Any]:
    """One row per (business, required type): the gap report's core, also the source of
    the completeness statistics."""
    step = aliased(BusinessStepDone)
    any_step = exists().where(BusinessStepDone.business_id == Business.id)
    confirmed = Document.type_confirmed.is_(True)
    sure = and_(Document.type_confirmed.is_(False),
                Document.type_confidence >= review_below)
    status_rank = func.max(case((confirmed, 3), (sure, 2), (Document.id.is_not(None), 1),
                                else_=0))
    doc_id = func.coalesce(func.min(case((confirmed, Document.id))),
                           func.min(case((sure, Document.id))), func.min(Document.id))
    stmt = (
        select(Business.id.label("business_id"), Business.customer_id, Business.business_no,
               Business.business_type, Business.team_id, Business.handler_id,
               Business.created_at.label("business_created_at"),
               req.c.doc_type, req.c.ord,
               func.coalesce(step.completed_at, Business.created_at).label("required_since"),
               status_rank.label("rank"), doc_id.label("document_id"),
               func.max(Document.type_confidence).label("confidence"))
        .join(req, req.c.business_type == Business.business_type)
        .outerjoin(step, and_(step.business_id == Business.id, step.step == req.c.step))
        .outerjoin(Document, and_(Document.business_id == Business.id,
                                  Document.doc_type == req.c.doc_type))
        .where(or_(req.c.conditional == 0, Business.agent_applied == true()),
               or_(step.id.is_not(None), ~any_step))
        .group_by(Business.id, Business.customer_id, Business.business_no,
                  Business.business_type, Business.team_id, Business.handler_id,
                  Business.created_at, req.c.doc_type, req.c.ord, step.completed_at)
    )
    return stmt


def _filtered(stmt: Select[Any], f: GapFilter) -> tuple[Select[Any], dict[str, Any]]:
    """The filter as bound parameters, so one statement shape serves every value."""
    conds: list[ColumnElement[bool]] = []
    params: dict[str, Any] = {}
    if f.customer_no is not None:
        conds.append(Business.customer_id == select(Customer.id).where(
            Customer.customer_no == bindparam("f_customer_no")).scalar_subquery())
        params["f_customer_no"] = f.customer_no
    for name, teams in (("f_team", [f.team] if f.team is not None else None),
                        ("f_teams", f.teams)):
        if teams is not None:
            conds.append(Business.team_id.in_(select(Team.id).where(
                Team.code.in_(bindparam(name, expanding=True)))))
            params[name] = list(teams)
    for name, value, cond in (
            ("f_type", f.business_type, Business.business_type == bindparam("f_type")),
            ("f_handler", f.handler_id, Business.handler_id == bindparam("f_handler")),
            ("f_from", f.created_from, Business.created_at >= bindparam("f_from")),
            ("f_to", f.created_to, Business.created_at < bindparam("f_to"))):
        if value is not None:
            conds.append(cond)
            params[name] = value
    return (stmt.where(*conds) if conds else stmt), params


def pairs_subquery(session: Session, checklist: Checklist, review_below: float,
                   f: GapFilter) -> Any:
    """The pairs with the filter's values bound in (for the statistics' aggregates)."""
    stmt, params = _filtered(_pairs_query(requirements_source(session, checklist),
                                          review_below), f)
    return stmt.params(params).subquery("pairs")


# Building the statement costs more Python than running it for one customer: it is
# built once per shape (which filters are set) and checklist, with bound values.
_REPORT_CACHE: dict[tuple[Any, ...], tuple[Checklist, Select[Any]]] = {}


def _report_statement(session: Session, checklist: Checklist, review_below: float,
                      f: GapFilter) -> tuple[Select[Any], dict[str, Any]]:
    req = requirements_source(session, checklist)
    shape = tuple(v is not None for v in (f.customer_no, f.team, f.teams, f.business_type,
                                          f.handler_id, f.created_from, f.created_to))
    key = (session.get_bind().dialect.name, id(checklist), review_below, f.only_gaps, shape)
    _, params = _filtered(select(Business.id), f)
    hit = _REPORT_CACHE.get(key)
    if hit is not None and hit[0] is checklist:
        return hit[1], params
    pairs, _ = _filtered(_pairs_query(req, review_below), f)
    p = pairs.subquery("pairs")
    handler = aliased(User)
    stmt = (select(Customer.customer_no, Customer.name, Team.code, handler.display_name,
                   p.c.business_no, p.c.business_type, p.c.doc_type, p.c.rank,
                   p.c.document_id, p.c.confidence, p.c.required_since)
            .join(Customer, Customer.id == p.c.customer_id)
            .outerjoin(Team, Team.id == p.c.team_id)
            .outerjoin(handler, handler.id == p.c.handler_id)
            .order_by(p.c.customer_id, p.c.business_id, p.c.ord))
    if f.only_gaps:
        stmt = stmt.where(p.c.rank < 3)
    if len(_REPORT_CACHE) > 256:
        _REPORT_CACHE.clear()
    _REPORT_CACHE[key] = (checklist, stmt)
    return stmt, params


def gap_rows(session: Session, checklist: Checklist, review_below: float,
             f: GapFilter = GapFilter()) -> Iterator[dict[str, Any]]:
    """Stream the report, one dict per (business, required type), ordered by customer
    and business; see the module docstring for the definitions."""
    stmt, params = _report_statement(session, checklist, review_below, f)
    names = {c: d.name for c, d in checklist.document_types.items()}
    ranks = {0: MISSING, 1: LOW, 2: CLASSIFIED, 3: CONFIRMED}
    # Core, not ORM, rows: a third less Python per row; yield_per = server-side cursor.
    result = session.connection().execute(
        stmt.execution_options(yield_per=STREAM_BATCH), params)
    for (cno, cname, team, hname, bno, btype, dtype, rank, doc_id, conf, since) in result:
        yield {"customer_no": cno, "customer_name": cname, "team": team or "",
               "handler": hname or "", "business_no": bno, "business_type": btype,
               "doc_type": dtype, "doc_name": names.get(dtype, dtype),
               "status": ranks[int(rank)], "document_id": doc_id,
               "confidence": conf, "open_since": since if not rank else None}


@dataclass
class BusinessGaps:
    business_no: str
    business_type: str
    rows: list[dict[str, Any]]

    @property
    def missing(self) -> list[str]:
        return [r["doc_type"] for r in self.rows if r["status"] == MISSING]


def customer_report(session: Session, checklist: Checklist, review_below: float,
                    customer_no: str) -> list[BusinessGaps]:
    """One customer's report grouped by business (for the customer page and the UI)."""
    out: dict[str, BusinessGaps] = {}
    for r in gap_rows(session, checklist, review_below, GapFilter(customer_no=customer_no)):
        bg = out.setdefault(r["business_no"],
                            BusinessGaps(r["business_no"], r["business_type"], []))
        bg.rows.append(r)
    return list(out.values())
