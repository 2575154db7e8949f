"""What a checklist gap report (缺件报告) covers, and its pairs computed from the live rows.

Shared by the report (``dms.services.gap_report``), which reads the pairs from here or
from the maintained gap table, and by that table (``dms.services.gap_table``), which is
filled with this same query.

Computed in the database in one set-based query: the checklist becomes a small
``dms_requirements`` temporary table (business type, document type, step, conditional)
joined to the businesses, their completed steps and their documents. Rows are streamed,
so memory stays flat however many customers are reported.

Definitions (mirroring ``Checklist.required_for(business_type, steps_done, agent=…)``):

* a business with step records requires only the types of the steps completed so far;
  a business without any step record requires the whole list;
* the power of attorney (``conditional_on_agent``, SQWTS) is required only when an agent
  applied;
* status: ``confirmed`` (a person confirmed a document of that type), ``classified`` (the
  classifier's confidence is at least ``classify_review_below``), ``low_confidence``
  (below, or no confidence), ``missing`` (no document of the business has that type);
  the document shown is the lowest id of the best status, the confidence the highest of
  the business's documents of that type;
* open since: for a missing type, when the step that requires it was completed (the
  business's creation when it has no step records).

Where the time goes computing live at 1.5 million rows (benchmarks/gap_report_bench.py): the rows
come out in customer order without sorting them on SQLite (businesses are walked along
their customer index, the requirements along ``(business_type, ord)``); the documents are
aggregated per (business, type) before the join, not the joined pairs afterwards; the
CSV download is formatted by the database (PostgreSQL: ``COPY … TO STDOUT``), not built
from a dict per row.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (ColumnElement, Integer, Select, String, and_, bindparam, case, cast,
                        column, exists, func, literal, or_, select, table, true)
from sqlalchemy.orm import Session, aliased

from dms.db.models import Business, BusinessStepDone, Customer, Document, Page, Team
from dms.domain.checklist import Checklist
from dms.domain.localtime import display_zone_name
from dms.errors import ConfigError

MISSING, LOW, CLASSIFIED, CONFIRMED = "missing", "low_confidence", "classified", "confirmed"
STATUS_NAMES_ZH = {MISSING: "缺失", LOW: "低置信度", CLASSIFIED: "未确认", CONFIRMED: "已确认"}
RANKS = {0: MISSING, 1: LOW, 2: CLASSIFIED, 3: CONFIRMED}


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
_REQ_COLUMN_TYPES = {"business_type": String, "doc_type": String, "doc_name": String,
                     "step": String, "ord": Integer, "conditional": Integer,
                     "fingerprint": String}
_REQ = table("dms_requirements", *(column(n, t) for n, t in _REQ_COLUMN_TYPES.items()))
_REQ_DDL = ("CREATE TEMP TABLE IF NOT EXISTS dms_requirements (business_type VARCHAR(32), "
            "doc_type VARCHAR(16), doc_name VARCHAR(200), step VARCHAR(32), ord INTEGER, "
            "conditional INTEGER, fingerprint VARCHAR(64))")


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


_REQ_CACHE: dict[int, tuple[Checklist, str, list[dict[str, Any]]]] = {}


def requirement_dicts(checklist: Checklist) -> tuple[str, list[dict[str, Any]]]:
    hit = _REQ_CACHE.get(id(checklist))
    if hit is not None and hit[0] is checklist:
        return hit[1], hit[2]
    rows = requirement_rows(checklist)
    for r in rows:
        for code in r[:3]:
            if not _CODE.match(code):
                raise ConfigError(f"checklist code {code!r} is not a plain identifier")
    fingerprint = hashlib.sha256(repr(
        [(r, checklist.document_types[r[1]].name) for r in rows]).encode()).hexdigest()
    dicts = [{"business_type": bt, "doc_type": dt, "doc_name": checklist.document_types[dt].name,
              "step": step, "ord": order, "conditional": cond, "fingerprint": fingerprint}
             for bt, dt, step, order, cond in rows]
    if len(_REQ_CACHE) > 16:
        _REQ_CACHE.clear()
    _REQ_CACHE[id(checklist)] = (checklist, fingerprint, dicts)
    return fingerprint, dicts


def requirements_source(session: Session, checklist: Checklist) -> Any:
    """The checklist as a temporary table of this connection, filled once per connection
    and checklist. A literal CTE was planned badly: PostgreSQL estimated 33,576 pairs for
    1.5 million and hashed the big side (28 s at 300,000 businesses); SQLite scanned it
    for every business. The table is indexed on SQLite (rows in ``ord`` order per business
    type, no sort) and ANALYZEd on PostgreSQL (right estimates, hash joins)."""
    fingerprint, dicts = requirement_dicts(checklist)
    conn = session.connection()
    conn.exec_driver_sql(_REQ_DDL)
    # Checked every time, not remembered: a rolled-back transaction takes a refill with it.
    if conn.scalar(select(func.max(_REQ.c.fingerprint))) != fingerprint:
        conn.execute(_REQ.delete())
        conn.execute(_REQ.insert(), dicts)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS temp.ix_dms_requirements "
                                 "ON dms_requirements (business_type, ord)")
        else:
            conn.exec_driver_sql("ANALYZE dms_requirements")
    return _REQ


def _document_aggregates(review_below: float) -> tuple[Any, Any, Any]:
    """Per (business, type): best status rank (3 confirmed, 2 classified, 1 low), the
    lowest document id of that rank, the highest confidence."""
    confirmed = Document.type_confirmed.is_(True)
    # A document with a page the OCR flagged (issue 20: poor reading, reason on the page)
    # counts as low confidence, whatever the classifier said, until a person confirms it.
    poor = exists().where(Page.document_id == Document.id, Page.needs_review.is_(True))
    sure = and_(Document.type_confirmed.is_(False), Document.type_confidence >= review_below,
                ~poor)
    rank = func.max(case((confirmed, 3), (sure, 2), else_=1))
    doc_id = func.coalesce(func.min(case((confirmed, Document.id))),
                           func.min(case((sure, Document.id))), func.min(Document.id))
    return rank, doc_id, func.max(Document.type_confidence)


def pairs_query(req: Any, review_below: float, f: GapFilter,
                 business_ids: Any = None) -> Select[Any]:
    """One row per (business, required type) the filter covers: the gap report's core,
    also the source of the completeness statistics. No GROUP BY over the joined set: the
    documents are aggregated per (business, type) first — all of them for a report of
    everyone (hash-joined on PostgreSQL), only those of the covered businesses otherwise
    (found through ``ix_documents_business_id_doc_type``). ``business_ids``, an expanding
    bind parameter, restricts it to those businesses (the gap table's refresh)."""
    step = aliased(BusinessStepDone)
    any_step = exists().where(BusinessStepDone.business_id == Business.id)
    rank, doc_id, conf = _document_aggregates(review_below)
    docs_q = (select(Document.business_id, Document.doc_type, rank.label("rank"),
                     doc_id.label("document_id"), conf.label("confidence"))
              .where(Document.business_id.is_not(None))
              .group_by(Document.business_id, Document.doc_type))
    covered = aliased(Business)
    conds = filter_conditions(f, covered)
    if conds:
        docs_q = docs_q.where(Document.business_id.in_(select(covered.id).where(*conds)))
    if business_ids is not None:
        docs_q = docs_q.where(Document.business_id.in_(business_ids))
    docs = docs_q.subquery("docs")
    return (
        select(Business.id.label("business_id"), Business.customer_id, Business.business_no,
               Business.business_type, Business.team_id, Business.handler_id,
               Business.created_at.label("business_created_at"),
               req.c.doc_type, req.c.doc_name, req.c.ord,
               func.coalesce(step.completed_at, Business.created_at).label("required_since"),
               func.coalesce(docs.c.rank, 0).label("rank"), docs.c.document_id,
               docs.c.confidence)
        .join(req, req.c.business_type == Business.business_type)
        .outerjoin(step, and_(step.business_id == Business.id, step.step == req.c.step))
        .outerjoin(docs, and_(docs.c.business_id == Business.id,
                              docs.c.doc_type == req.c.doc_type))
        .where(or_(req.c.conditional == 0, Business.agent_applied == true()),
               or_(step.id.is_not(None), ~any_step), *filter_conditions(f, Business),
               *([Business.id.in_(business_ids)] if business_ids is not None else []))
    )


def filter_conditions(f: GapFilter, b: Any) -> list[ColumnElement[bool]]:
    """The filter on businesses ``b`` with its values as bound parameters
    (``filter_params``), so one statement shape serves every value."""
    conds: list[ColumnElement[bool]] = []
    if f.customer_no is not None:
        conds.append(b.customer_id == select(Customer.id).where(
            Customer.customer_no == bindparam("f_customer_no")).scalar_subquery())
    if f.team is not None:
        # One value from a scalar subquery: PostgreSQL resolves it first and walks
        # ix_businesses_team_id (an IN subquery became a hash join over every business).
        conds.append(b.team_id == select(Team.id).where(
            Team.code == bindparam("f_team")).scalar_subquery())
    if f.teams is not None:
        conds.append(b.team_id.in_(select(Team.id).where(
            Team.code.in_(bindparam("f_teams", expanding=True)))))
    if f.business_type is not None:
        conds.append(b.business_type == bindparam("f_type"))
    if f.handler_id is not None:
        conds.append(b.handler_id == bindparam("f_handler"))
    if f.created_from is not None:
        conds.append(b.created_at >= bindparam("f_from"))
    if f.created_to is not None:
        conds.append(b.created_at < bindparam("f_to"))
    return conds


def filter_params(f: GapFilter) -> dict[str, Any]:
    values = {"f_customer_no": f.customer_no,
              "f_team": f.team,
              "f_teams": list(f.teams) if f.teams is not None else None,
              "f_type": f.business_type, "f_handler": f.handler_id,
              "f_from": f.created_from, "f_to": f.created_to}
    return {k: v for k, v in values.items() if v is not None}


def confidence_text(dialect: str, confidence: Any) -> Any:
    """Three decimals rounded half up, the same text on SQLite and PostgreSQL."""
    milli = confidence * 1000 + 0.5
    if dialect == "sqlite":
        return func.printf("%.3f", cast(milli, Integer) / 1000.0)
    return func.to_char(func.floor(milli) / 1000, "FM0.000")


def since_text(dialect: str, at: Any) -> Any:
    """An instant to the minute in the deployment's zone with its offset
    (as ``report_formats.csv_datetime``): "2026-03-02 09:00+08:00"."""
    tz = display_zone_name()
    if dialect == "sqlite":
        return func.dms_minute_with_offset(at, literal(tz, String))
    local = func.timezone(literal(tz, String), at)
    off = cast(func.extract("epoch", local - func.timezone(literal("UTC", String), at)), Integer)
    sign = case((off < 0, literal("-", String)), else_=literal("+", String))
    hours = func.lpad(cast(func.div(func.abs(off), 3600), String), 2, "0")
    minutes = func.lpad(cast(func.div(func.mod(func.abs(off), 3600), 60), String), 2, "0")
    return func.to_char(local, "YYYY-MM-DD HH24:MI").concat(sign).concat(hours) \
        .concat(":").concat(minutes)


def business_type_name(checklist: Checklist, column: Any) -> Any:
    """A business type's Chinese name in SQL (the code itself when the checklist does not
    know it): exports name types as people read them, not by code."""
    names = {code: bt.name for code, bt in checklist.business_types.items()}
    return case(names, value=column, else_=column) if names else column
