"""Checklist gap report (缺件报告): per business, every document type the checklist
requires, whether it is present (confirmed by a person, classified automatically, or
only with low confidence) and, when missing, since when. What a report covers, the
definitions and the live query are in ``dms.services.gap_query``.

Where the rows come from: the maintained gap table (``dms.services.gap_table``) holds
these pairs, kept in step before every commit; a report reads it when it is fresh and
computes the pairs from the live rows (``gap_query.pairs_query``) otherwise — the same
rows either way (tests/reports/test_gap_table.py). ``source="live"`` forces the
computation.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from dms import translations
from dms.db.models import Customer, Team, User
from dms.domain.checklist import Checklist
from dms.domain.localtime import display_zone_name
from dms.errors import ConflictError, InvalidInputError
from dms.services import gap_table
# Re-exported: callers name the report's filter and statuses as gap_report.X.
from dms.services.gap_query import CLASSIFIED as CLASSIFIED
from dms.services.gap_query import CONFIRMED as CONFIRMED
from dms.services.gap_query import LOW as LOW
from dms.services.gap_query import requirement_rows as requirement_rows
from dms.services.gap_query import (MISSING, RANKS, STATUS_NAMES_ZH, GapFilter,
                                    business_type_name, confidence_text, filter_params,
                                    pairs_query, requirements_source, since_text)
from dms.services.report_formats import (HEADINGS_ZH, csv_header, csv_rows_chunks,
                                         pg_copy_csv_chunks)

COLUMNS = ("customer_no", "customer_name", "team", "handler", "business_no", "business_type",
           "doc_type", "doc_name", "status", "document_id", "confidence", "open_since")
STREAM_BATCH = 5000
SOURCES = ("auto", "table", "live")


def use_table(session: Session, checklist: Checklist, review_below: float,
              source: str = "auto") -> bool:
    """Read the maintained gap table (``auto``: when it is fresh) or compute from the
    live rows (see dms.services.gap_table); ``table`` insists on the table."""
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
    if use_table(session, checklist, review_below, source):
        return gap_table.table_pairs_query(f)
    return pairs_query(requirements_source(session, checklist), review_below, f)


def pairs_subquery(session: Session, checklist: Checklist, review_below: float,
                   f: GapFilter, source: str = "auto") -> Any:
    """The pairs with the filter's values bound in (for the statistics' aggregates)."""
    stmt = _pairs_source(session, checklist, review_below, f, source)
    return stmt.params(filter_params(f)).subquery("pairs")


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
         pairs_query(req, review_below, f)).subquery("pairs")
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
    and business; see ``dms.services.gap_query`` for the definitions. For JSON, XLSX, PDF and
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
