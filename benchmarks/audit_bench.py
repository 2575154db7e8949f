"""The cost of auditing a read: a document page view with the audit hook (one extra
transaction: lock the chain head, hash, insert) against the same view without it,
measured in the same run on the same database.

    .venv/bin/python benchmarks/audit_bench.py [--requests 200] [--rounds 5]
        [--postgres | --database-url postgresql+psycopg2://…]   (default: a temporary SQLite file)

``--postgres`` starts a throwaway PostgreSQL server (dms.testing.postgres) for the run.

Rounds alternate the two apps; the figure is the median of the per-round ratios, so a
machine shared with other work swings both sides alike. Also printed: one bare append
(``record_read``) in microseconds.
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from dms.db.migrate import upgrade
from dms.db.models import Business, Customer, Document, Page
from dms.db.session import session_scope
from dms.services.audit_log import record_read
from dms.services.container import build_services
from dms.services.users import create_user, ensure_team
from dms.settings import load_settings
from dms.testing.postgres import ThrowawayPostgres
from dms.web.app import create_app
from dms.web.audit_reads import record_reads

PASSWORD = "bench-pw-123"


class NoDispatch:
    """Page views queue nothing; a call would mean the benchmark measures something else."""

    def ocr_document(self, document_id: int) -> None:
        raise RuntimeError("unexpected dispatch")

    def ocr_page(self, page_id: int) -> None:
        raise RuntimeError("unexpected dispatch")

    def finalize_document(self, document_id: int) -> None:
        raise RuntimeError("unexpected dispatch")


def timed(app: Flask, url: str, n: int) -> tuple[float, float]:
    """Wall and CPU seconds per request (SQLite runs in this process, so its CPU time
    counts; on a busy machine the CPU figure is the steadier one)."""
    c = app.test_client()
    c.post("/login", data={"username": "handler", "password": PASSWORD})
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        res = c.get(url)
        assert res.status_code == 200, res.status_code
    return (time.perf_counter() - start) / n, (time.process_time() - cpu) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    a = ap.parse_args()
    if a.postgres:
        with ThrowawayPostgres() as pg:
            a.database_url = pg.create_database("audit_bench")
            run(a)
    else:
        run(a)


def run(a: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dms-audit-bench-"))
    settings = load_settings(data_dir=tmp / "var", secret_key="bench" * 8, _env_file=None,
                             **({"database_url": a.database_url} if a.database_url else {}))
    upgrade(settings.database_url)
    svc = build_services(settings)
    with session_scope(svc.sessions) as s:
        create_user(s, "handler", PASSWORD, "handler", display_name="h", team_code="YYB")
        team = ensure_team(s, "YYB")
        c = Customer(customer_no="3301000001", name="张三", team_id=team.id)
        b = Business(business_no="YK1", customer=c, business_type="LV_RES_NEW", team_id=team.id)
        digest = hashlib.sha256(b"bench").hexdigest()
        d = Document(sha256=digest, customer=c, business=b, source_name="合同.pdf",
                     mime="application/pdf", size_bytes=1, original_key=f"originals/{digest}",
                     page_count=1, ocr_status="done")
        d.pages.append(Page(page_no=1, image_key=f"pages/{digest}/1.png", text="供用电合同" * 50))
        s.add_all([c, b, d])
        s.flush()
        url = f"/documents/{d.id}"
    audited = create_app(settings, dispatcher=NoDispatch(), services=svc)
    plain = create_app(settings, dispatcher=NoDispatch(), services=svc)
    plain.after_request_funcs[None].remove(record_reads)
    timed(audited, url, 10), timed(plain, url, 10)  # warm up templates and connections
    wall: dict[str, list[float]] = {"plain": [], "audited": []}
    cpu: dict[str, list[float]] = {"plain": [], "audited": []}
    for _ in range(a.rounds):
        for name, app in (("plain", plain), ("audited", audited)):
            w, c = timed(app, url, a.requests)
            wall[name].append(w * 1000)
            cpu[name].append(c * 1000)
    n = a.requests
    start, cpu0 = time.perf_counter(), time.process_time()
    for i in range(n):
        record_read(svc.sessions, actor="bench", action="document_view", entity="document",
                    entity_id=i, customer_no="3301000001", remote_addr="127.0.0.1")
    append_us = (time.perf_counter() - start) / n * 1e6
    append_cpu_us = (time.process_time() - cpu0) / n * 1e6
    db = settings.database_url.split(":", 1)[0]
    print(f"database: {db}; {a.rounds} rounds x {n} document page views each")
    for label, d in (("wall", wall), ("CPU", cpu)):
        ratios = [x / y for x, y in zip(d["audited"], d["plain"], strict=True)]
        print(f"{label:>4}: without audit {statistics.median(d['plain']):.2f} ms, with "
              f"{statistics.median(d['audited']):.2f} ms; audited/unaudited "
              f"{statistics.median(ratios):.2f}x (rounds {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"one bare append (lock head, hash, insert, commit): {append_us:.0f} us wall, "
          f"{append_cpu_us:.0f} us CPU")
    svc.close()


if __name__ == "__main__":
    main()
