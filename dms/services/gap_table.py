"""The maintained gap table (``gap_pairs``, see dms.db.models_gaps): how it is kept in step
with the live rows, rebuilt, and read.

* **Marking** — triggers (migration 0012) put a business into ``gap_dirty`` when it, its
  documents (business, type, confidence, confirmation) or its completed steps change.
* **Refresh** — :func:`refresh_dirty`, called before every commit of a dms session
  (``dms.db.session``), recomputes the dirty businesses' pairs with the gap report's own
  query (``gap_query.pairs_query``) in the same transaction and clears their marks.
  So the table and the data it derives from commit together.
* **Reading** — :func:`is_fresh`: the table is used only when ``gap_state`` names the
  current checklist and review threshold, no business is marked and the triggers are in
  place; otherwise reports compute from the live rows (correct, slower). A change by a
  process without dms services (raw SQL, a script's bare session) leaves marks behind:
  reports stay correct, and the next dms commit (up to ``MAX_REFRESH`` businesses) or
  ``dms report gaps --rebuild`` catches the table up.
* **Rebuild** — :func:`rebuild` recomputes everything (an existing database, a changed
  checklist or threshold). A database of at most ``MAX_REFRESH`` businesses (a new one)
  is rebuilt by its next commit; a larger one by ``dms report gaps --rebuild``.

The full CSV from the table (:func:`table_csv_chunks`) is one row per business: the
customer, team, handler and business cells formatted once by the database, then the
business's pairs' stored CSV tails — at 300,000 businesses a fifth of the rows and none
of the per-document work of the live query.
"""
from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (ColumnElement, Connection, Engine, Select, String, bindparam, case, cast,
                        delete, func, insert, literal, or_, select)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from dms.db.models import Business, Customer, Team, User
from dms.db.models_gaps import GapDirty, GapPair, GapState
from dms.domain.checklist import Checklist
from dms.domain.localtime import display_zone_name
from dms.errors import ConfigError
from dms.services.gap_query import (RANKS, STATUS_NAMES_ZH, GapFilter, business_type_name,
                                    confidence_text, filter_conditions, filter_params,
                                    pairs_query, requirement_dicts, requirements_source,
                                    since_text)

log = logging.getLogger(__name__)

# Changing how pairs are computed or formatted changes this, which invalidates every
# built table (it is part of the fingerprint).
# 2: statuses in Chinese in the stored CSV cells; 3: a document with a page flagged for
# review by the OCR counts as low confidence (issue 20)
DEFINITION_VERSION = 3
MAX_REFRESH = 2000  # dirty businesses one commit catches up; more wait for a rebuild
TRIGGERS = {"sqlite": 9, "postgresql": 6}  # per watched table 3 / 2 (migration 0012)
_SEPARATOR = "\x1f"  # between a business's CSV tails; never in a checklist name
_STATE_ID = 1


def table_fingerprint(checklist: Checklist, review_below: float) -> str:
    requirements_fingerprint, _ = requirement_dicts(checklist)
    # The stored CSV cells hold local times: another zone needs another table.
    return hashlib.sha256(f"{requirements_fingerprint}|{review_below!r}|{DEFINITION_VERSION}"
                          f"|{display_zone_name()}".encode()).hexdigest()


def csv_cell(dialect: str, value: Any) -> Any:
    """``value`` as one CSV cell, quoted exactly when PostgreSQL's COPY quotes (a comma,
    quote, CR or LF inside, or the end-of-data marker); NULL as the empty cell."""
    find = func.instr if dialect == "sqlite" else func.strpos
    needs_quotes = or_(*(find(value, literal(ch, String)) > 0 for ch in (",", '"', "\n", "\r")),
                       value == literal("\\.", String))
    quoted = (literal('"', String) + func.replace(value, '"', '""', type_=String)
              + literal('"', String))
    return case((value.is_(None), literal("", String)), (needs_quotes, quoted), else_=value)


def _join_cells(cells: Sequence[Any]) -> Any:
    out = cells[0]
    for c in cells[1:]:
        out = out + literal(",", String) + c
    return out


def _csv_tail(dialect: str, p: Any) -> Any:
    """The pair's cells from doc_type to open_since, as ``gap_csv_chunks`` writes them."""
    status = case(*((p.c.rank == r, literal(STATUS_NAMES_ZH[name], String))
                    for r, name in RANKS.items()))
    return _join_cells([
        csv_cell(dialect, p.c.doc_type), csv_cell(dialect, p.c.doc_name), status,
        func.coalesce(cast(p.c.document_id, String), literal("", String)),
        case((p.c.confidence.is_not(None), confidence_text(dialect, p.c.confidence)),
             else_=literal("", String)),
        case((p.c.rank == 0, since_text(dialect, p.c.required_since)),
             else_=literal("", String))])


_FILL_CACHE: dict[tuple[Any, ...], tuple[Checklist, Any]] = {}
_COPIED = ("business_id", "ord", "doc_type", "doc_name", "rank", "document_id", "confidence",
           "required_since")


def _fill(session: Session, checklist: Checklist, review_below: float,
          business_ids: Sequence[int] | None) -> int:
    """Insert the pairs of ``business_ids`` (all businesses if None) from the live rows."""
    _, dicts = requirement_dicts(checklist)
    if any(_SEPARATOR in d["doc_name"] for d in dicts):
        raise ConfigError("a document type's name in the checklist contains U+001F")
    conn = session.connection()
    req = requirements_source(session, checklist)
    # Building the statement costs more than running it for one business: once per shape.
    key = (conn.dialect.name, id(checklist), review_below, business_ids is None)
    hit = _FILL_CACHE.get(key)
    if hit is not None and hit[0] is checklist:
        stmt = hit[1]
    else:
        ids: Any = (bindparam("gap_business_ids", expanding=True) if business_ids is not None
                    else None)
        p = pairs_query(req, review_below, GapFilter(), ids).subquery("pairs")
        stmt = insert(GapPair).from_select(
            [*_COPIED, "csv_tail"],
            select(*(p.c[c] for c in _COPIED), _csv_tail(conn.dialect.name, p)))
        if len(_FILL_CACHE) > 64:
            _FILL_CACHE.clear()
        _FILL_CACHE[key] = (checklist, stmt)
    params: dict[str, Any] = ({"gap_business_ids": list(business_ids)}
                              if business_ids is not None else {})
    return int(conn.execute(stmt, params).rowcount or 0)


_MIGRATED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _has_table(conn: Connection) -> bool:
    """Whether migration 0012 ran (a database migrated only partly has no gap tables);
    remembered per engine once true, so a commit does not ask again."""
    if conn.engine in _MIGRATED:
        return True
    if conn.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'gap_state'"
    else:
        sql = "SELECT count(*) FROM pg_class WHERE relname = 'gap_state'"
    found = bool(conn.exec_driver_sql(sql).scalar())
    if found:
        _MIGRATED.add(conn.engine)
    return found


def _triggers_in_place(conn: Connection) -> bool:
    """A table rebuilt by a later SQLite migration loses its triggers: then nothing marks."""
    if conn.dialect.name == "sqlite":
        sql = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
               "AND substr(name, 1, 4) = 'gap_'")
    else:
        sql = ("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
               "AND substr(tgname, 1, 4) = 'gap_' AND tgenabled <> 'D'")
    return conn.exec_driver_sql(sql).scalar() == TRIGGERS[conn.dialect.name]


def _built_for(conn: Connection, fingerprint: str) -> bool:
    return conn.scalar(select(GapState.fingerprint).where(GapState.id == _STATE_ID)) == fingerprint


def is_fresh(session: Session, checklist: Checklist, review_below: float) -> bool:
    """Whether the table holds exactly what the live computation would give now (in this
    transaction: uncommitted changes of its own are marked too, so they count)."""
    conn = session.connection()
    if not _has_table(conn):
        return False
    if not _built_for(conn, table_fingerprint(checklist, review_below)):
        return False
    if conn.scalar(select(GapDirty.business_id).limit(1)) is not None:
        return False
    return _triggers_in_place(conn)


def refresh_businesses(session: Session, checklist: Checklist, review_below: float,
                       business_ids: Sequence[int]) -> int:
    """Recompute these businesses' pairs (a deleted business's go) and clear their marks."""
    ids = sorted(set(business_ids))
    if not ids:
        return 0
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Two transactions refreshing one business take turns: the second recomputes
        # after the first committed (READ COMMITTED: each statement sees the commits
        # before it), so neither overwrites the other's documents with an older view.
        conn.execute(select(Business.id).where(Business.id.in_(ids)).order_by(Business.id)
                     .with_for_update(key_share=True))
    conn.execute(delete(GapPair).where(GapPair.business_id.in_(ids)))
    n = _fill(session, checklist, review_below, ids)
    conn.execute(delete(GapDirty).where(GapDirty.business_id.in_(ids)))
    return n


def refresh_dirty(session: Session) -> None:
    """Before commit: catch the table up with what this transaction (and any leftover
    mark) changed. Only sessions of dms services know the checklist; others leave their
    marks, which keeps reports on the live rows until caught up."""
    services = session.info.get("services")
    if services is None or session.get_transaction() is None:
        return
    session.flush()
    conn = session.connection()
    if not _has_table(conn):
        return
    checklist = services.checklist
    below = services.settings.classify_review_below
    if not _built_for(conn, table_fingerprint(checklist, below)):
        # Never built, or for another checklist or threshold: a small database (a new
        # one) is built now; a large one computes live until `dms report gaps --rebuild`.
        few = select(Business.id).limit(MAX_REFRESH + 1).subquery()
        if (conn.scalar(select(func.count()).select_from(few)) or 0) <= MAX_REFRESH:
            rebuild(session, checklist, below)
        return
    ids: list[int] = list(conn.scalars(select(GapDirty.business_id).limit(MAX_REFRESH + 1)))
    if not ids:
        return
    if len(ids) > MAX_REFRESH:
        log.warning("more than %d businesses await the gap table; reports compute from the "
                    "live rows until `dms report gaps --rebuild`", MAX_REFRESH)
        return
    refresh_businesses(session, checklist, below, ids)


def rebuild(session: Session, checklist: Checklist, review_below: float) -> int:
    """Recompute the whole table from the live rows; returns the pairs written. Commit
    the session to publish it (readers see the old table or the live rows until then)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Refreshes of concurrent commits wait (they would write pairs this rebuild is
        # about to write); readers do not.
        conn.exec_driver_sql("LOCK TABLE gap_pairs IN EXCLUSIVE MODE")
    conn.execute(delete(GapDirty))
    conn.execute(delete(GapPair))
    n = _fill(session, checklist, review_below, None)
    conn.execute(delete(GapState))
    conn.execute(insert(GapState).values(id=_STATE_ID, built_at=datetime.now(UTC),
                                         fingerprint=table_fingerprint(checklist,
                                                                       review_below)))
    conn.exec_driver_sql("ANALYZE gap_pairs")
    return n


def table_pairs_query(f: GapFilter) -> Select[Any]:
    """The same columns as ``gap_query.pairs_query``, read from the table: the
    business's live row for its customer, team, handler and filters."""
    stmt: Any = (select(GapPair.business_id, Business.customer_id, Business.business_no,
                   Business.business_type, Business.team_id, Business.handler_id,
                   Business.created_at.label("business_created_at"), GapPair.doc_type,
                   GapPair.doc_name, GapPair.ord, GapPair.required_since, GapPair.rank,
                   GapPair.document_id, GapPair.confidence)
            .join(Business, Business.id == GapPair.business_id)
            .where(*filter_conditions(f, Business)))
    return stmt


def _table_csv_statement(dialect: str, f: GapFilter, checklist: Checklist) -> Select[Any]:
    handler = aliased(User)
    prefix = _join_cells([csv_cell(dialect, c) for c in (
        Customer.customer_no, Customer.name, Team.code, handler.display_name,
        Business.business_no, business_type_name(checklist, Business.business_type))]) \
        + literal(",", String)
    conds: list[ColumnElement[bool]] = [GapPair.business_id == Business.id]
    if f.only_gaps:
        conds.append(GapPair.rank < 3)
    if dialect == "sqlite":
        # The table is clustered on (business_id, ord): the range comes in ord order.
        tails = func.group_concat(GapPair.csv_tail, _SEPARATOR)
    else:
        tails = func.string_agg(GapPair.csv_tail,
                                aggregate_order_by(literal(_SEPARATOR, String), GapPair.ord))
    agg = select(tails).where(*conds).correlate(Business).scalar_subquery()
    return (select(prefix, agg)
            .join_from(Business, Customer, Customer.id == Business.customer_id)
            .outerjoin(Team, Team.id == Business.team_id)
            .outerjoin(handler, handler.id == Business.handler_id)
            .where(*filter_conditions(f, Business))
            .order_by(Business.customer_id, Business.id))


def table_csv_chunks(session: Session, f: GapFilter, checklist: Checklist,
                     batch: int = 2000) -> Iterator[str]:
    """The report's CSV rows (no heading) from the table, one business per database row:
    its prefix once, then each stored tail behind a copy of it."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # The correlated aggregate inflates the cost estimate past JIT's threshold; the
        # compilation costs seconds and saves nothing on index lookups.
        conn.exec_driver_sql("SET LOCAL jit = off")
    stmt = _table_csv_statement(dialect, f, checklist).execution_options(yield_per=batch)
    result = conn.execute(stmt, filter_params(f))
    for rows in result.partitions():
        lines = [prefix + tails.replace(_SEPARATOR, "\n" + prefix)
                 for prefix, tails in rows if tails is not None]
        if lines:
            yield "\n".join(lines) + "\n"
