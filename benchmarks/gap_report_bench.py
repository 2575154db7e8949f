"""Checklist gap report at full size (issue 9).

With 100,000 customers, 300,000 businesses and 1,000,000 documents (``--scale 1``),
bulk-loaded (executemany on SQLite, COPY on PostgreSQL) into a fresh database:

  (a) the full gap report of all customers to CSV — ``gap_csv_chunks``, exactly what
      ``dms report gaps --all --format csv`` and the UI's CSV download write — in a child
      process: wall time, CPU time of the process and (PostgreSQL) of its server backend,
      peak memory (ru_maxrss), compared with the same run at a 10× smaller scale to show
      the memory is flat (streamed)                              (goal < 10 s, flat memory)
  (b) one customer's report, p95 over random customers           (goal p95 < 50 ms)
  (c) the team aggregate (completeness of one team), p95         (no goal given; reported)

The reports read the maintained gap table (dms.services.gap_table): after the bulk load
(raw SQL, which the triggers mark but no dms session refreshes) the bench rebuilds it as
``dms report gaps --rebuild`` would on an existing database, and prints that one-off time.
It also prints what keeping the table costs a write: p95 of "add a document, commit" in a
dms session (the refresh runs before commit) against a session without the refresh.

Baselines measured in the same run: for (a), the same report computed from the live rows
(``source="live"``, the previous implementation) and dumping the documents table
(1,000,000 rows at scale 1) to CSV the same way (cursor → csv.writer on SQLite, COPY on
PostgreSQL), i.e. what writing that many rows costs at all on this machine now; for (b), the naive
per-customer computation the customer page did (ORM load of businesses and their
documents, ``Checklist.missing`` in Python). The machine's load average and the CPU time
of a fixed Python loop are printed too: on a shared machine wall time is not CPU time.

Usage:  .venv/bin/python benchmarks/gap_report_bench.py [--scale 1.0] [--db sqlite|postgres|both]
        --scale 0.05 is a quick run (5,000 customers).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import Engine, select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from dms.db.migrate import upgrade  # noqa: E402
from dms.db.models import Business, Customer  # noqa: E402
from dms.db.session import make_engine, make_session_factory  # noqa: E402
from dms.domain.checklist import Checklist, load_checklist  # noqa: E402
from dms.db.models import Document  # noqa: E402
from dms.services import gap_table  # noqa: E402
from dms.services.container import build_services  # noqa: E402
from dms.services.gap_report import GapFilter, gap_csv_chunks, gap_rows, use_table  # noqa: E402
from dms.settings import load_settings  # noqa: E402
from dms.services.report_formats import csv_rows_chunks, pg_copy_csv_chunks  # noqa: E402
from dms.services.statistics import completeness  # noqa: E402

CHECKLIST = REPO / "config" / "checklists.yaml"
GOAL_FULL_S, GOAL_ONE_MS = 10.0, 50.0
TEAMS, HANDLERS = 20, 200
REVIEW_BELOW = 0.6
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _rows(n_customers: int, cl: Checklist, seed: int = 7) -> dict[str, Iterator[tuple[Any, ...]]]:
    """Generators of table rows: 3 businesses per customer, ~10 documents per customer."""
    rnd = random.Random(seed)
    btypes = list(cl.business_types)
    order = {s: i for i, s in enumerate(cl.step_names())}
    plan: list[tuple[int, int, str, bool, list[str]]] = []  # (bid, cid, type, agent, steps)
    for cid in range(1, n_customers + 1):
        for k in range(3):
            bt = rnd.choice(btypes)
            paper_steps = sorted({cl.document_types[c].step
                                  for c in cl.business_types[bt].required},
                                 key=order.__getitem__)
            done = (paper_steps[:rnd.randint(1, len(paper_steps))] if rnd.random() < 0.6
                    else [])
            plan.append(((cid - 1) * 3 + k + 1, cid, bt, rnd.random() < 0.1, done))

    def teams() -> Iterator[tuple[Any, ...]]:
        for t in range(1, TEAMS + 1):
            yield (t, f"T{t:02d}", f"班组{t}")

    def users() -> Iterator[tuple[Any, ...]]:
        for u in range(1, HANDLERS + 1):
            yield (u, f"h{u}", f"经办{u}", "x", "handler", (u - 1) % TEAMS + 1, True, False,
                   "zh_CN", "")

    def customers() -> Iterator[tuple[Any, ...]]:
        for cid in range(1, n_customers + 1):
            yield (cid, f"33{cid:08d}", f"客户{cid}", "resident", "", (cid - 1) % TEAMS + 1, T0)

    def businesses() -> Iterator[tuple[Any, ...]]:
        for bid, cid, bt, agent, _ in plan:
            at = T0 + timedelta(hours=bid % 5000)
            yield (bid, f"YW{bid:09d}", cid, bt, (cid - 1) % TEAMS + 1, bid % HANDLERS + 1,
                   agent, "pending_add", at, at)

    def steps() -> Iterator[tuple[Any, ...]]:
        sid = 0
        for bid, _, _, _, done in plan:
            for i, step in enumerate(done):
                sid += 1
                yield (sid, bid, step, T0 + timedelta(hours=bid % 5000 + 24 * i))

    def documents() -> Iterator[tuple[Any, ...]]:
        drnd = random.Random(seed + 1)
        did = 0
        per_customer = 10
        for i in range(0, len(plan), 3):
            cid = plan[i][1]
            pool = [(bid, c) for bid, _, bt, agent, _ in plan[i:i + 3]
                    for c in cl.required_for(bt, agent=agent)]
            for _ in range(per_customer):
                did += 1
                bid, code = drnd.choice(pool)
                conf = round(drnd.random(), 3)
                yield (did, f"{did:064x}", cid, bid, code, conf, drnd.random() < 0.5,
                       "", f"{did}.pdf", "application/pdf", 1, f"k{did}", 1, "done", "", "",
                       "{}", T0, T0)

    return {"teams": teams(), "users": users(), "customers": customers(),
            "businesses": businesses(), "business_steps": steps(), "documents": documents()}


COLS = {
    "teams": ("id", "code", "name"),
    "users": ("id", "username", "display_name", "password_hash", "role", "team_id", "active",
              "is_team_leader", "locale", "email"),
    "customers": ("id", "customer_no", "name", "kind", "address", "team_id", "created_at"),
    "businesses": ("id", "business_no", "customer_id", "business_type", "team_id",
                   "handler_id", "agent_applied", "archive_state", "state_since",
                   "created_at"),
    "business_steps": ("id", "business_id", "step", "completed_at"),
    "documents": ("id", "sha256", "customer_id", "business_id", "doc_type", "type_confidence",
                  "type_confirmed", "title", "source_name", "mime", "size_bytes",
                  "original_key", "page_count", "ocr_status", "ocr_error", "ocr_engine",
                  "facts", "created_at", "updated_at"),
}


def _chunks(it: Iterator[tuple[Any, ...]], n: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    buf: list[tuple[Any, ...]] = []
    for r in it:
        buf.append(r)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def load(engine: Engine, n_customers: int, cl: Checklist) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, rows in _rows(n_customers, cl).items():
            cols = COLS[table]
            for chunk in _chunks(rows):
                if engine.dialect.name == "sqlite":
                    marks = ",".join("?" * len(cols))
                    cur.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                                    [tuple(v.isoformat(sep=' ') if isinstance(v, datetime)
                                           else v for v in r) for r in chunk])
                else:
                    buf = io.StringIO()
                    w = csv.writer(buf)
                    w.writerows([tuple(r"\N" if v is None else v for v in r) for r in chunk])
                    buf.seek(0)
                    cur.copy_expert(f"COPY {table} ({','.join(cols)}) FROM STDIN "
                                    r"WITH (FORMAT csv, NULL '\N')", buf)
        if engine.dialect.name == "postgresql":
            for table in COLS:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
                cur.execute(f"ANALYZE {table}")
        else:
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _backend_cpu_s(pid: int | None) -> float:
    """CPU seconds of a PostgreSQL backend process (same machine), 0 if unreadable."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _dump_documents(s: Any) -> Iterator[str]:
    """The baseline: the documents table to CSV by the same machinery as the report."""
    sql = "SELECT id, business_id, doc_type, type_confidence, type_confirmed FROM documents"
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        return pg_copy_csv_chunks(conn.connection.dbapi_connection,
                                  f"COPY ({sql} ORDER BY id) TO STDOUT WITH (FORMAT csv)")
    return csv_rows_chunks(conn.exec_driver_sql(sql + " ORDER BY id").partitions(5000))


def child_full(url: str, out: str, what: str = "report") -> None:
    """Run in a subprocess so ru_maxrss is the report's own peak memory."""
    cl = load_checklist(CHECKLIST)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        pid = (s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
               if engine.dialect.name == "postgresql" else None)
        t, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu_s(pid)
        lines = 0
        with open(out, "w", encoding="utf-8", newline="") as f:
            chunks = (_dump_documents(s) if what == "dump" else
                      gap_csv_chunks(s, cl, REVIEW_BELOW, GapFilter(),
                                     source="table" if what == "report" else "live"))
            for chunk in chunks:
                lines += chunk.count("\n")
                f.write(chunk)
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
        server = _backend_cpu_s(pid) - server
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "cpu_s": cpu, "server_cpu_s": server,
                      "rows": lines - (what != "dump"), "peak_mb": rss_mb,
                      "md5": _md5(out)}))


def _md5(path: str) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def rebuild(url: str, cl: Checklist) -> dict[str, float]:
    """The one-off fill of an existing database (``dms report gaps --rebuild``)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        pid = (s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
               if engine.dialect.name == "postgresql" else None)
        t, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu_s(pid)
        pairs = gap_table.rebuild(s, cl, REVIEW_BELOW)
        s.commit()
        res = {"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - cpu,
               "server_cpu_s": _backend_cpu_s(pid) - server, "pairs": pairs}
    engine.dispose()
    return res


def write_cost(url: str, tmp: Path, n_customers: int, n: int = 40) -> dict[str, float]:
    """p95 ms of "add a document to a random business, commit": in a dms session (the
    gap table refreshed before commit) and in a bare session (no refresh; its marks are
    caught up by the next dms commit, which the bench makes at the end)."""
    svc = build_services(load_settings(data_dir=tmp / "var", database_url=url,
                                       secret_key="bench" * 32, _env_file=None))
    bare = make_session_factory(svc.engine)
    rnd = random.Random(3)
    ids = iter(range(10**8, 10**8 + 2 * n + 1))
    codes = list(svc.checklist.document_types)

    def add(factory: Any) -> None:
        did = next(ids)
        bid = rnd.randint(1, 3 * n_customers)
        with factory() as s:
            s.add(Document(id=did, sha256=f"{did:064x}", customer_id=(bid - 1) // 3 + 1,
                           business_id=bid, doc_type=rnd.choice(codes), type_confidence=0.9,
                           type_confirmed=True, source_name="x.pdf", mime="application/pdf",
                           size_bytes=1, original_key=f"k{did}"))
            s.commit()
    res = {"with_refresh_p95_ms": p95(lambda: add(svc.sessions), n),
           "bare_p95_ms": p95(lambda: add(bare), n)}
    add(svc.sessions)  # catches the bare session's marks up
    with svc.sessions() as s:
        res["fresh_after"] = float(use_table(s, svc.checklist, REVIEW_BELOW))
    svc.close()
    return res


def full_report(url: str, tmp: Path, what: str = "report") -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child-full", url, str(tmp / "gaps.csv"),
                          what], check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def cpu_speed_s() -> float:
    """CPU seconds of a fixed Python loop (an idle modern core: about 0.4 s)."""
    t = time.process_time()
    n = 0
    for i in range(10_000_000):
        n += i
    return time.process_time() - t


def p95(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.quantiles(times, n=20)[18]


def naive_customer(sessions: Any, cl: Checklist, cno: str) -> dict[int, list[str]]:
    """What the customer page did: load everything, compute in Python."""
    with sessions() as s:
        c = s.scalar(select(Customer).where(Customer.customer_no == cno).options(
            selectinload(Customer.businesses).selectinload(Business.documents),
            selectinload(Customer.businesses).selectinload(Business.steps)))
        out = {}
        for b in c.businesses:
            done = {st.step for st in b.steps} or None
            present = {d.doc_type for d in b.documents if d.doc_type}
            out[b.id] = cl.missing(b.business_type, present, done, agent=b.agent_applied)
        return out


def bench(url: str, n_customers: int, tmp: Path, small_url: str | None) -> dict[str, Any]:
    cl = load_checklist(CHECKLIST)
    upgrade(url)
    engine = make_engine(url)
    t = time.perf_counter()
    load(engine, n_customers, cl)
    res: dict[str, Any] = {"load_s": time.perf_counter() - t, "loadavg": os.getloadavg()[0],
                           "cpu_speed_s": cpu_speed_s()}
    res["rebuild"] = rebuild(url, cl)
    res["full"] = full_report(url, tmp)
    res["live"] = full_report(url, tmp, "live")
    res["dump"] = full_report(url, tmp, "dump")
    if small_url is not None:
        upgrade(small_url)
        load(make_engine(small_url), max(1, n_customers // 10), cl)
        rebuild(small_url, cl)
        res["full_small"] = full_report(small_url, tmp)
    sessions = make_session_factory(engine)
    rnd = random.Random(1)
    cnos = [f"33{rnd.randint(1, n_customers):08d}" for _ in range(200)]
    it = iter(cnos * 2)

    def one() -> None:
        with sessions() as s:
            list(gap_rows(s, cl, REVIEW_BELOW, GapFilter(customer_no=next(it))))
    res["one_p95_ms"] = p95(one, 200)
    it2 = iter(cnos * 2)
    res["one_naive_p95_ms"] = p95(lambda: naive_customer(sessions, cl, next(it2)), 200)
    teams = iter([f"T{rnd.randint(1, TEAMS):02d}" for _ in range(40)])
    now = T0 + timedelta(days=400)

    def team() -> None:
        with sessions() as s:
            completeness(s, cl, REVIEW_BELOW, group_by="team", now=now,
                         f=GapFilter(team=next(teams)))
    res["team_p95_ms"] = p95(team, 20)
    engine.dispose()
    res["write"] = write_cost(url, tmp, n_customers)
    res["loadavg_end"] = os.getloadavg()[0]
    return res


def report(name: str, r: dict[str, Any], n: int) -> None:
    full, small = r["full"], r.get("full_small")
    print(f"\n== {name}: {n:,} customers, {3 * n:,} businesses, {10 * n:,} documents "
          f"(load {r['load_s']:.1f} s)")
    dump, live, rb, w = r["dump"], r["live"], r["rebuild"], r["write"]
    print(f"    load average {r['loadavg']:.1f} at the start, {r['loadavg_end']:.1f} at the end, "
          f"on {os.cpu_count()} cores; a fixed Python loop took {r['cpu_speed_s']:.2f} s CPU "
          f"(idle modern core ≈ 0.4 s)")
    print(f"    gap table rebuild (one-off, existing database): {rb['pairs']:,} pairs in "
          f"{rb['seconds']:.2f} s wall, CPU {rb['cpu_s']:.2f} + {rb['server_cpu_s']:.2f} s")
    print(f"(a) full gap report to CSV: {full['rows']:,} rows in {full['seconds']:.2f} s wall, "
          f"CPU {full['cpu_s']:.2f} s report process + {full['server_cpu_s']:.2f} s server, "
          f"peak RSS {full['peak_mb']:.0f} MB — {full['seconds'] / GOAL_FULL_S:.2f}× the "
          f"10 s goal")
    print(f"    baseline, the same report from the live rows: {live['rows']:,} rows in "
          f"{live['seconds']:.2f} s wall, CPU {live['cpu_s']:.2f} + {live['server_cpu_s']:.2f} s"
          f" — table/live wall {full['seconds'] / live['seconds']:.2f}×, CPU "
          f"{(full['cpu_s'] + full['server_cpu_s']) / (live['cpu_s'] + live['server_cpu_s']):.2f}×"
          f"; same bytes: {full['md5'] == live['md5']}")
    print(f"    baseline, documents table to CSV: {dump['rows']:,} rows in "
          f"{dump['seconds']:.2f} s wall, CPU {dump['cpu_s']:.2f} + {dump['server_cpu_s']:.2f} s"
          f" — report/baseline wall {full['seconds'] / dump['seconds']:.2f}×, CPU "
          f"{(full['cpu_s'] + full['server_cpu_s']) / (dump['cpu_s'] + dump['server_cpu_s']):.2f}×")
    if small:
        print(f"    10× smaller: {small['rows']:,} rows in {small['seconds']:.2f} s, peak RSS "
              f"{small['peak_mb']:.0f} MB — memory ratio full/small "
              f"{full['peak_mb'] / small['peak_mb']:.2f} (flat ≈ 1)")
    print(f"(b) one customer p95 {r['one_p95_ms']:.1f} ms — {r['one_p95_ms'] / GOAL_ONE_MS:.2f}× "
          f"the 50 ms goal; naive ORM baseline p95 {r['one_naive_p95_ms']:.1f} ms "
          f"(ratio {r['one_p95_ms'] / r['one_naive_p95_ms']:.2f})")
    print(f"(c) team aggregate (one team of {TEAMS}) p95 {r['team_p95_ms']:.1f} ms")
    print(f"    keeping the table: add a document + commit p95 {w['with_refresh_p95_ms']:.1f} ms "
          f"with the refresh, {w['bare_p95_ms']:.1f} ms without (ratio "
          f"{w['with_refresh_p95_ms'] / w['bare_p95_ms']:.2f}); fresh afterwards: "
          f"{bool(w['fresh_after'])}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--child-full", nargs=3, metavar=("URL", "OUT", "WHAT"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child_full:
        child_full(*a.child_full)
        return
    n = max(10, int(100_000 * a.scale))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.db in ("sqlite", "both"):
            report("SQLite", bench(f"sqlite:///{tmp / 'big.sqlite'}", n, tmp,
                                   f"sqlite:///{tmp / 'small.sqlite'}"), n)
        if a.db in ("postgres", "both"):
            from dms.testing.postgres import ThrowawayPostgres

            with ThrowawayPostgres() as pg:
                report("PostgreSQL", bench(pg.create_database("big"), n, tmp,
                                           pg.create_database("small")), n)


if __name__ == "__main__":
    main()
