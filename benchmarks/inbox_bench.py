"""The inbox and the reminder/urging sweep at scale, on SQLite and PostgreSQL.

Loads 100,000 customers, 300,000 businesses and 1,000,000 documents (× --scale) into a
fresh SQLite file and a throwaway PostgreSQL server (bulk executemany), then measures

  (a) the inbox of one team collector — counts of the six categories plus the first page
      of each list — p50/p95 over --repeat calls            (goal: p95 < 100 ms)
  (b) one full reminder/urging sweep: close finished tasks, rebuild the contract digest
      from documents.facts, urge every due task, write urges  (goal: < 30 s)

and prints ratios to the goals and to a baseline measured in the same run (one indexed
COUNT of the collector's team items: the cheapest query the inbox could possibly be).

Usage:  .venv/bin/python benchmarks/inbox_bench.py [--scale 0.05] [--db sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from dms.db.migrate import upgrade  # noqa: E402
from dms.db.models import Business, Customer, Document, Task, Team, User  # noqa: E402
from dms.db.session import make_engine, make_session_factory, session_scope  # noqa: E402
from dms.domain.checklist import load_checklist  # noqa: E402
from dms.services.notify import LogNotifier  # noqa: E402
from dms.services.reminders import inbox_for, sweep  # noqa: E402
from dms.settings import DEFAULT_CONFIG_DIR, load_settings  # noqa: E402

INBOX_GOAL_MS = 100.0
SWEEP_GOAL_S = 30.0
TEAMS = 20
HANDLERS_PER_TEAM = 10
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
CHUNK = 20_000
# Archive states of businesses: most paper is long archived; the rest is in flight.
STATES = (["archived"] * 85 + ["pending_add"] * 3 + ["pending_send"] * 3
          + ["pending_review"] * 3 + ["pending_transfer"] * 3 + ["pending_shelving"] * 3)


def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), CHUNK):
        yield rows[i:i + CHUNK]


def _copy_text(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    text_ = v.isoformat() if isinstance(v, datetime) else str(v)
    return text_.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def bulk(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk-load rows straight through the driver: COPY on PostgreSQL, executemany on
    SQLite. Columns a row leaves out get the model's Python-side default (other areas'
    columns included), evaluated once for the whole batch."""
    if not rows:
        return
    table = model.__table__
    defaults: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in rows[0] and col.default is not None and not col.primary_key:
            arg = col.default.arg
            defaults[col.name] = arg(None) if callable(arg) else arg
    cols = list(rows[0]) + list(defaults)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        for r in rows:
            buf.write("\t".join(_copy_text(r.get(c, defaults.get(c))) for c in cols) + "\n")
        buf.seek(0)
        with raw.cursor() as cur:
            cur.copy_expert(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN", buf)
        return

    def value(v: Any) -> Any:
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it
        return v

    raw.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [tuple(value(r.get(c, defaults.get(c))) for c in cols) for r in rows])


def load(url: str, scale: float, seed: int = 7) -> dict[str, Any]:
    """Bulk-load the data set; returns counts and the benchmark collector's id."""
    checklist = load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")
    rnd = random.Random(seed)
    n_customers = int(100_000 * scale)
    n_businesses = int(300_000 * scale)
    n_documents = int(1_000_000 * scale)
    engine = make_engine(url)
    types = list(checklist.business_types)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        bulk(conn, Team, [{"id": t, "code": f"T{t:02d}", "name": f"班组{t}"}
                                    for t in range(1, TEAMS + 1)])
        users, uid = [], 0
        handlers: dict[int, list[int]] = {}
        for t in range(1, TEAMS + 1):
            for role, n in (("handler", HANDLERS_PER_TEAM), ("collector", 1)):
                for _ in range(n):
                    uid += 1
                    users.append({"id": uid, "username": f"u{uid}", "display_name": f"用户{uid}",
                                  "password_hash": "x", "role": role, "team_id": t,
                                  "is_team_leader": role == "handler" and uid % 10 == 1,
                                  "email": f"u{uid}@example.cn"})
                    if role == "handler":
                        handlers.setdefault(t, []).append(uid)
        collector_id = next(u["id"] for u in users if u["role"] == "collector")
        users.append({"id": uid + 1, "username": "archivist", "display_name": "档案员",
                      "password_hash": "x", "role": "archivist", "team_id": None,
                      "is_team_leader": False, "email": ""})
        bulk(conn, User, users)
        for chunk in _chunks([{"id": c, "customer_no": f"33{c:08d}", "name": f"客户{c}",
                               "team_id": 1 + c % TEAMS} for c in range(1, n_customers + 1)]):
            bulk(conn, Customer, chunk)
        businesses, tasks = [], []
        for b in range(1, n_businesses + 1):
            cust = 1 + rnd.randrange(n_customers)
            team = 1 + cust % TEAMS
            state = rnd.choice(STATES)
            since = NOW - timedelta(hours=rnd.uniform(1, 24 * 60))
            in_progress = state != "archived" or rnd.random() < 0.05
            due = NOW + timedelta(hours=rnd.uniform(-72, 120)) if in_progress else None
            handler = rnd.choice(handlers[team])
            businesses.append({
                "id": b, "business_no": f"YK{b:010d}", "customer_id": cust,
                "business_type": rnd.choice(types), "team_id": team, "handler_id": handler,
                "archive_state": state, "state_since": since, "created_at": since,
                "current_step": "scheme" if due else None,
                "step_warn_at": due - timedelta(hours=12) if due else None, "step_due_at": due})
            if state in ("pending_add", "pending_send"):
                tasks.append({"kind": "digitise", "business_id": b, "assignee_id": handler,
                              "team_id": team, "step": "accept", "status": "open",
                              "due_at": since + timedelta(hours=48),
                              "next_urge_at": since + timedelta(hours=48), "details": {}})
            if state != "archived" and state != "pending_shelving":
                tasks.append({"kind": "transfer", "business_id": b, "assignee_id": None,
                              "team_id": team, "step": "accept", "status": "open",
                              "due_at": since + timedelta(days=7),
                              "next_urge_at": since + timedelta(days=7), "details": {}})
        for chunk in _chunks(businesses):
            bulk(conn, Business, chunk)
        for chunk in _chunks(tasks):
            bulk(conn, Task, chunk)
        docs = []
        for d in range(1, n_documents + 1):
            biz = businesses[rnd.randrange(n_businesses)]
            doc_type = rnd.choice(checklist.business_types[str(biz["business_type"])].required)
            facts = {}
            if doc_type in ("GYDHT", "DDXY"):
                end = NOW.date() + timedelta(days=rnd.randint(-365, 5 * 365))
                facts = {"contract_end": end.isoformat(), "contract_no": f"HT{d}"}
            docs.append({"sha256": f"{d:064x}", "customer_id": biz["customer_id"],
                         "business_id": biz["id"], "doc_type": doc_type, "type_confirmed": True,
                         "source_name": f"{doc_type}_{d}.pdf", "mime": "application/pdf",
                         "size_bytes": 100_000, "original_key": f"originals/{d:064x}",
                         "page_count": 2, "ocr_status": "done", "facts": facts})
            if len(docs) == CHUNK:
                bulk(conn, Document, docs)
                docs = []
        if docs:
            bulk(conn, Document, docs)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # what a maintained database has: planner statistics
    engine.dispose()
    return {"customers": n_customers, "businesses": n_businesses, "documents": n_documents,
            "open_tasks": len(tasks), "collector_id": collector_id,
            "load_s": time.perf_counter() - t0}


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def measure(url: str, collector_id: int, repeat: int) -> dict[str, Any]:
    checklist = load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        collector = s.get(User, collector_id)
        assert collector is not None
        team_id = collector.team_id
        baseline, inbox_ms = [], []
        inbox_for(s, collector, checklist, NOW)  # warm caches once
        for _ in range(repeat):
            t = time.perf_counter()
            s.scalar(select(func.count()).select_from(Business).where(
                Business.team_id == team_id, Business.archive_state == "pending_add"))
            baseline.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            box = inbox_for(s, collector, checklist, NOW)
            inbox_ms.append((time.perf_counter() - t) * 1000)
    logging.getLogger("dms.notify").setLevel(logging.WARNING)
    notifier = LogNotifier(load_settings(_env_file=None))
    t = time.perf_counter()
    with session_scope(factory) as s:
        report = sweep(s, checklist, NOW, notifier)
    sweep_s = time.perf_counter() - t
    return {"baseline_p95_ms": _p(baseline, 95), "inbox_p50_ms": _p(inbox_ms, 50),
            "inbox_p95_ms": _p(inbox_ms, 95), "sweep_s": sweep_s, "urges": report.urges,
            "notices": report.notices, "contracts": report.contracts,
            "phases": ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items()),
            "inbox_total": sum(box.counts.values())}


def run(name: str, url: str, scale: float, repeat: int) -> None:
    upgrade(url)
    info = load(url, scale)
    print(f"\n== {name}: {info['customers']:,} customers, {info['businesses']:,} businesses, "
          f"{info['documents']:,} documents, {info['open_tasks']:,} open tasks "
          f"(loaded in {info['load_s']:.0f} s)")
    m = measure(url, info["collector_id"], repeat)
    print(f"baseline (one indexed team COUNT) p95 {m['baseline_p95_ms']:.2f} ms")
    print(f"inbox of one collector: p50 {m['inbox_p50_ms']:.1f} ms, p95 "
          f"{m['inbox_p95_ms']:.1f} ms  → {m['inbox_p95_ms'] / INBOX_GOAL_MS:.2f} × goal "
          f"(100 ms), {m['inbox_p95_ms'] / m['baseline_p95_ms']:.1f} × baseline; "
          f"{m['inbox_total']:,} items in the six categories")
    print(f"full sweep: {m['sweep_s']:.2f} s → {m['sweep_s'] / SWEEP_GOAL_S:.2f} × goal (30 s); "
          f"{m['urges']:,} urges, {m['notices']:,} notices, {m['contracts']:,} contracts "
          f"digested\n  sweep phases (s): {m['phases']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k/300k/1M")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dms-inbox-bench-") as tmp:
        if args.db in ("sqlite", "both"):
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args.scale, args.repeat)
        if args.db in ("postgres", "both"):
            from dms.testing.postgres import ThrowawayPostgres

            with ThrowawayPostgres() as pg:
                run("PostgreSQL", pg.create_database("bench"), args.scale, args.repeat)


if __name__ == "__main__":
    main()
