"""Checklist gap report (缺件报告): per business, every document type the checklist
requires, whether it is present (confirmed by a person, classified automatically, or
only with low confidence) and, when missing, since when.

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

Where the rows come from: the maintained gap table (``dms.services.gap_table``) holds
these pairs, kept in step before every commit; a report reads it when it is fresh and
computes the pairs from the live rows (below) otherwise — the same rows either way
(tests/reports/test_gap_table.py). ``source="live"`` forces the computation.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (ColumnElement, Integer, Select, String, and_, bindparam, case, cast,
                        column, exists, func, literal, or_, select, table, true)
from sqlalchemy.orm import Session, aliased

from dms import translations
from dms.db.models import Business, BusinessStepDone, Customer, Document, Page, Team, User
from dms.domain.checklist import Checklist
from dms.domain.localtime import display_zone_name
from dms.errors import ConfigError, ConflictError, InvalidInputError
from dms.services.report_formats import (HEADINGS_ZH, csv_header, csv_rows_chunks,
                                         pg_copy_csv_chunks)

MISSING, LOW, CLASSIFIED, CONFIRMED = "missing", "low_confidence", "classified", "confirmed"
STATUS_NAMES_ZH = {MISSING: "缺失", LOW: "低置信度", CLASSIFIED: "未确认", CONFIRMED: "已确认"}
RANKS = {0: MISSING, 1: LOW, 2: CLASSIFIED, 3: CONFIRMED}
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


def _requirement_dicts(checklist: Checklist) -> tuple[str, list[dict[str, Any]]]:
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
    fingerprint, dicts = _requirement_dicts(checklist)
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


def _pairs_query(req: Any, review_below: float, f: GapFilter,
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
    conds = _conditions(f, covered)
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
               or_(step.id.is_not(None), ~any_step), *_conditions(f, Business),
               *([Business.id.in_(business_ids)] if business_ids is not None else []))
    )


def _conditions(f: GapFilter, b: Any) -> list[ColumnElement[bool]]:
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


SOURCES = ("auto", "table", "live")


def use_table(session: Session, checklist: Checklist, review_below: float,
              source: str = "auto") -> bool:
    """Read the maintained gap table (``auto``: when it is fresh) or compute from the
    live rows (see dms.services.gap_table); ``table`` insists on the table."""
    from dms.services import gap_table

    if source not in SOURCES:
        raise InvalidInputError(f"source is one of {SOURCES}")
    if source == "live":
        return False
    fresh = gap_table.is_fresh(session, checklist, review_below)
    if source == "table" and not fresh:
        raise ConflictError("the gap table is not up to date",
                            hint="dms report gaps --rebuild")
    return fresh


def _pairs_source(session: Session, checklist: Checklist, review_below: float, f: GapFilter,
                  source: str) -> Select[Any]:
    from dms.services import gap_table

    if use_table(session, checklist, review_below, source):
        return gap_table.table_pairs_query(f)
    return _pairs_query(requirements_source(session, checklist), review_below, f)


def pairs_subquery(session: Session, checklist: Checklist, review_below: float,
                   f: GapFilter, source: str = "auto") -> Any:
    """The pairs with the filter's values bound in (for the statistics' aggregates)."""
    stmt = _pairs_source(session, checklist, review_below, f, source)
    return stmt.params(filter_params(f)).subquery("pairs")


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


def _csv_cells(dialect: str, p: Any, handler: Any, checklist: Checklist) -> list[Any]:
    """The CSV cells as the database writes them, identical on SQLite and PostgreSQL:
    empty text as NULL (COPY would quote ''), confidence with three decimals rounded half
    up, open since in local time to the minute (as ``report_formats.csv_datetime``);
    statuses and business types by their Chinese names."""
    def text_or_null(col: Any) -> Any:
        return func.nullif(col, "")
    conf = confidence_text(dialect, p.c.confidence)
    since = since_text(dialect, p.c.required_since)
    status = case(*((p.c.rank == r, literal(STATUS_NAMES_ZH[name]))
                    for r, name in RANKS.items() if r))
    return [text_or_null(Customer.customer_no), text_or_null(Customer.name),
            text_or_null(Team.code), text_or_null(handler.display_name),
            text_or_null(p.c.business_no),
            text_or_null(business_type_name(checklist, p.c.business_type)),
            text_or_null(p.c.doc_type), text_or_null(p.c.doc_name),
            func.coalesce(status, STATUS_NAMES_ZH[MISSING]), p.c.document_id,
            case((p.c.confidence.is_not(None), conf)),
            case((p.c.rank == 0, since))]


# Building the statement costs more Python than running it for one customer: it is
# built once per shape (which filters are set), output and checklist, with bound values.
_REPORT_CACHE: dict[tuple[Any, ...], tuple[Checklist, Select[Any]]] = {}


def _report_statement(session: Session, checklist: Checklist, review_below: float,
                      f: GapFilter, as_csv: bool = False,
                      source: str = "auto") -> tuple[Select[Any], dict[str, Any]]:
    from dms.services import gap_table

    table = use_table(session, checklist, review_below, source)
    req = None if table else requirements_source(session, checklist)
    dialect = session.get_bind().dialect.name
    shape = tuple(v is not None for v in (f.customer_no, f.team, f.teams, f.business_type,
                                          f.handler_id, f.created_from, f.created_to))
    key = (dialect, id(checklist), review_below, f.only_gaps, shape, as_csv, table,
           display_zone_name())
    params = filter_params(f)
    hit = _REPORT_CACHE.get(key)
    if hit is not None and hit[0] is checklist:
        return hit[1], params
    p = (gap_table.table_pairs_query(f) if table else
         _pairs_query(req, review_below, f)).subquery("pairs")
    handler = aliased(User)
    cols = (_csv_cells(dialect, p, handler, checklist) if as_csv else
            [Customer.customer_no, Customer.name, Team.code, handler.display_name,
             p.c.business_no, p.c.business_type, p.c.doc_type, p.c.doc_name, p.c.rank,
             p.c.document_id, p.c.confidence, p.c.required_since])
    # Customer, then business, then checklist order: on SQLite the walk along the
    # businesses' customer index already yields this order (no sort of the pairs).
    stmt = (select(*cols)
            .join_from(p, Customer, Customer.id == p.c.customer_id)
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
             f: GapFilter = GapFilter(), *, source: str = "auto") -> Iterator[dict[str, Any]]:
    """Stream the report, one dict per (business, required type), ordered by customer
    and business; see the module docstring for the definitions. For JSON, XLSX, PDF and
    the pages; the CSV download is :func:`gap_csv_chunks`."""
    stmt, params = _report_statement(session, checklist, review_below, f, source=source)
    # Core, not ORM, rows: a third less Python per row; yield_per = server-side cursor.
    result = session.connection().execute(
        stmt.execution_options(yield_per=STREAM_BATCH), params)
    for (cno, cname, team, hname, bno, btype, dtype, dname, rank, doc_id, conf,
         since) in result:
        yield {"customer_no": cno, "customer_name": cname, "team": team or "",
               "handler": hname or "", "business_no": bno, "business_type": btype,
               "doc_type": dtype, "doc_name": dname, "status": RANKS[int(rank)],
               "document_id": doc_id, "confidence": conf,
               "open_since": since if not rank else None}


def named_rows(rows: Iterable[dict[str, Any]], checklist: Checklist, locale: str = "zh_CN"
               ) -> Iterator[dict[str, Any]]:
    """Rows as people read them in XLSX/PDF (as the CSV writes them): statuses (in
    ``locale``) and business types by their names instead of codes."""
    types = checklist.business_types
    statuses = translations.names(STATUS_NAMES_ZH, locale)
    for r in rows:
        bt = types.get(r["business_type"])
        yield {**r, "status": statuses.get(r["status"], r["status"]),
               "business_type": bt.name if bt else r["business_type"]}


def gap_csv_chunks(session: Session, checklist: Checklist, review_below: float,
                   f: GapFilter = GapFilter(), *, source: str = "auto") -> Iterator[str]:
    """The report as CSV text in chunks (BOM, Chinese headings, then the rows), formatted
    by the database: PostgreSQL writes it with ``COPY (query) TO STDOUT``, SQLite's rows
    go to ``csv.writer`` as they come. No Python object per cell on PostgreSQL, no dict
    per row on either; the same bytes from both (tests/reports/test_csv_export.py). From
    the maintained gap table when it is fresh: one database row per business, the same
    bytes again (``gap_table.table_csv_chunks``)."""
    from dms.services import gap_table

    yield csv_header(COLUMNS, HEADINGS_ZH)
    if use_table(session, checklist, review_below, source):
        yield from gap_table.table_csv_chunks(session, f, checklist)
        return
    stmt, params = _report_statement(session, checklist, review_below, f, as_csv=True,
                                     source="live")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # COPY takes no parameters: psycopg2 quotes the bound values into the text.
        expanded = stmt.compile(dialect=conn.dialect).construct_expanded_state(params)
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cur: Any = dbapi.cursor()
        try:
            query = cur.mogrify(expanded.statement, expanded.parameters).decode()
        finally:
            cur.close()
        yield from pg_copy_csv_chunks(dbapi, f"COPY ({query}) TO STDOUT WITH (FORMAT csv)")
    else:
        yield from csv_rows_chunks(conn.execute(stmt, params).partitions(STREAM_BATCH))


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
