"""HTTP load on the production server (issue 17): 50 users for a fixed time, loopback.

A populated archive (``--customers`` customers, 3 businesses and 10 one-page documents
each, bulk-loaded as ``gap_report_bench`` does, page text generated, the gap table rebuilt
and the pages indexed) is served by ``dms serve --workers N`` (gunicorn, the production
server) on 127.0.0.1. ``--users`` simulated people, each a handler of one team with its own
cookie session, log in once (GET the form, send any ``csrf_token`` it holds, POST) and then,
for ``--duration`` seconds, open their inbox, search, open a document of their team and
the team's gap report, in random order, with no think time (a closed loop: each user
waits for an answer before asking again, so it measures the server at saturation).

Printed per endpoint: requests, requests/s, p50 and p99 latency, errors (any status other
than 200, a redirect to the login page, or no answer; goal 0) and p50 as a multiple of
the baseline measured in the same run: the login form fetched by the same users under the
same load (one template, one user lookup: what any request costs here at all).

Usage:  .venv/bin/python benchmarks/http_load.py [--db sqlite|postgres|both]
            [--customers 1000] [--users 50] [--duration 30] [--workers 4]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from benchmarks.gap_report_bench import REVIEW_BELOW, TEAMS, load  # noqa: E402
from dms.db.migrate import upgrade  # noqa: E402
from dms.db.session import session_scope  # noqa: E402
from dms.domain.checklist import load_checklist  # noqa: E402
from dms.services import gap_table  # noqa: E402
from dms.services.container import build_services  # noqa: E402
from dms.services.indexing import reindex_all  # noqa: E402
from dms.settings import load_settings  # noqa: E402
from dms.testing.postgres import ThrowawayPostgres  # noqa: E402

PASSWORD = "load-bench-pw"
DOCS_PER_CUSTOMER = 10
WORDS = ["供用电合同", "电费", "户号", "增容", "过户", "计量装置", "用电地址", "申请书",
         "身份证", "营业执照", "竣工报告", "验收", "低压居民", "新装", "变压器", "缴费"]
SEARCHES = ["合同", "电费", "增容", "计量装置", "用电地址", "营业执照", "竣工 验收", "变压器"]
ENDPOINTS = ("login", "inbox", "search", "document", "gaps", "baseline")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# --- the archive ---------------------------------------------------------------------------

def populate(url: str, data_dir: Path, customers: int, users: int) -> dict[str, float]:
    """Bulk rows, one page of text per document, gap table, index, passwords."""
    t0 = time.perf_counter()
    settings = load_settings(_env_file=None, data_dir=data_dir, database_url=url,
                             secret_key="bench" * 8)
    upgrade(url)
    services = build_services(settings)
    checklist = load_checklist(settings.checklist_path)
    load(services.engine, customers, checklist)
    rnd = random.Random(3)
    n_docs = customers * DOCS_PER_CUSTOMER
    with services.engine.begin() as conn:
        rows = []
        for did in range(1, n_docs + 1):
            cid = (did - 1) // DOCS_PER_CUSTOMER + 1
            body = " ".join(rnd.choice(WORDS) for _ in range(40))
            rows.append({"d": did, "k": f"pages/{did}/1.png",
                         "t": f"客户{cid} 户号 33{cid:08d} {body}"})
            if len(rows) == 5000 or did == n_docs:
                conn.execute(text(
                    "INSERT INTO pages (document_id, page_no, image_key, text, existing_text, "
                    "rotation, skew, needs_review, ocr_status, ocr_error, attempts, engine, "
                    "worker) VALUES (:d, 1, :k, :t, '', 0, 0, false, 'done', '', 1, "
                    "'tesseract', '')"), rows)
                rows = []
        pw = generate_password_hash(PASSWORD)
        conn.execute(text("UPDATE users SET password_hash = :pw WHERE id <= :n"),
                     {"pw": pw, "n": users})
    loaded = time.perf_counter() - t0
    with session_scope(services.sessions) as s:
        gap_table.rebuild(s, checklist, REVIEW_BELOW)
    t1 = time.perf_counter()
    with services.sessions() as s:
        pages = reindex_all(s, services.index)
    indexed = time.perf_counter() - t1
    services.close()
    return {"documents": n_docs, "pages": pages, "load_s": loaded, "index_s": indexed}


# --- the server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path, workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | {
        "DMS_DATA_DIR": str(data_dir), "DMS_DATABASE_URL": url, "DMS_SECRET_KEY": "bench",
        "DMS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "dms", "serve", "--workers", str(workers),
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(data_dir / "server.log", "ab"), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(data_dir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's arbiter stops its workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the users -----------------------------------------------------------------------------

@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, seconds: float, ok: bool, why: str = "") -> None:
        self.latencies[name].append(seconds)
        if not ok:
            self.errors[name] += 1
            self.samples.setdefault(name, why)


@dataclass
class Clock:
    """The timed phase starts once every user has logged in (a login hashes a password:
    50 at once would otherwise eat the first seconds of the run)."""

    users: int
    logged_in: int = 0
    until: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    duration: float = 0.0
    solo_rounds: int = 0

    def arrived(self) -> None:
        self.logged_in += 1
        if self.logged_in == self.users:
            self.until = time.monotonic() + self.duration
            self.started.set()


async def user(n: int, base: str, customers: int, clock: Clock, stats: Stats) -> None:
    """Handler h<n> of team T<(n-1) % TEAMS + 1> (as the bulk load assigned them)."""
    team = (n - 1) % TEAMS + 1
    team_customers = [c for c in range(team, customers + 1, TEAMS)]
    rnd = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as http:
        t = time.perf_counter()
        try:
            form = await http.get("/login")
            m = CSRF.search(form.text)
            data = {"username": f"h{n}", "password": PASSWORD}
            if m:
                data["csrf_token"] = m.group(1) or m.group(2)
            r = await http.post("/login", data=data)
            ok, why = r.status_code == 302 and "/login" not in r.headers.get("location", ""), \
                f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            ok, why = False, f"{type(exc).__name__}: {exc}"
        stats.add("login", time.perf_counter() - t, ok, why)
        clock.arrived()
        await clock.started.wait()
        if not ok:
            return
        if clock.solo_rounds:  # one user alone: every endpoint a few times, in turn
            for _ in range(clock.solo_rounds):
                for name in ENDPOINTS[1:]:
                    await _get(http, name, rnd, team_customers, stats)
            return
        while time.monotonic() < clock.until:
            await _get(http, rnd.choice(ENDPOINTS[1:]), rnd, team_customers, stats)


async def _get(http: httpx.AsyncClient, name: str, rnd: random.Random,
               team_customers: list[int], stats: Stats) -> None:
    cid = rnd.choice(team_customers)
    path = {
        "inbox": "/archive/inbox",
        "search": f"/search?q={rnd.choice(SEARCHES)}",
        "document": f"/documents/{(cid - 1) * DOCS_PER_CUSTOMER + rnd.randint(1, 10)}",
        "gaps": "/reports/gaps",
        "baseline": "/login",
    }[name]
    t = time.perf_counter()
    try:
        r = await http.get(path)
        ok, why = r.status_code == 200, f"HTTP {r.status_code} {path}"
    except httpx.HTTPError as exc:
        ok, why = False, f"{type(exc).__name__} {path}"
    stats.add(name, time.perf_counter() - t, ok, why)


def pct(xs: list[float], q: float) -> float:
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


def report(db: str, info: dict[str, float], stats: Stats, solo: Stats, duration: float,
           users: int, workers: int) -> None:
    base = statistics.median(stats.latencies["baseline"]) if stats.latencies["baseline"] else 0
    total = sum(len(v) for k, v in stats.latencies.items() if k != "login")
    print(f"\n== {db}: {info['documents']:,} documents, {info['pages']:,} pages indexed; "
          f"{users} users, {duration:.0f} s, gunicorn --workers {workers}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"   (archive built in {info['load_s']:.1f} s, indexed in {info['index_s']:.1f} s)")
    print(f"   {'endpoint':<10} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'p50 ÷ baseline':>15} {'p50 alone ms':>13}")
    for name in ENDPOINTS:
        xs = stats.latencies.get(name, [])
        if not xs:
            continue
        # Logins happen once per user before the timed phase: no rate.
        rate = f"{len(xs) / duration:.1f}" if name != "login" else "-"
        p50, p99 = pct(xs, 50) * 1000, pct(xs, 99) * 1000
        ratio = f"{p50 / (base * 1000):.1f}×" if base else "-"
        one = solo.latencies.get(name, [])
        one_ms = f"{statistics.median(one) * 1000:.1f}" if one else "-"
        print(f"   {name:<10} {len(xs):>8} {rate:>7} {p50:>8.1f} {p99:>8.1f} "
              f"{stats.errors.get(name, 0):>6} {ratio:>15} {one_ms:>13}")
    print(f"   all pages: {total / duration:.1f} req/s, errors "
          f"{sum(stats.errors.values())} (alone: {sum(solo.errors.values())})")
    for name, why in (solo.samples | stats.samples).items():
        print(f"   first error of {name}: {why}")


async def alone(base: str, customers: int, rounds: int) -> Stats:
    """The same-run baseline of each endpoint: one user, nothing else asking."""
    stats, clock = Stats(), Clock(1, solo_rounds=rounds)
    await user(1, base, customers, clock, stats)
    return stats


async def drive(base: str, customers: int, users: int, duration: float) -> tuple[Stats, float]:
    """Returns the statistics and the length of the timed phase."""
    stats, clock = Stats(), Clock(users, duration=duration)
    await asyncio.gather(*(user(n, base, customers, clock, stats) for n in range(1, users + 1)))
    return stats, time.monotonic() - (clock.until - duration)


def run(db: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="dms-load-") as tmp:
        data_dir = Path(tmp) / "var"
        pg = ThrowawayPostgres().start() if db == "postgres" else None
        try:
            url = pg.url if pg else f"sqlite:///{data_dir / 'dms.sqlite'}"
            info = populate(url, data_dir, args.customers, args.users)
            port = free_port()
            server = start_server(url, data_dir, args.workers, port)
            try:
                solo = asyncio.run(alone(f"http://127.0.0.1:{port}", args.customers, 5))
                stats, elapsed = asyncio.run(drive(f"http://127.0.0.1:{port}", args.customers,
                                                   args.users, args.duration))
            finally:
                stop_server(server)
            report(db, info, stats, solo, elapsed, args.users, args.workers)
        finally:
            if pg:
                pg.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    if args.users > 200:
        ap.error("--users: the bulk load makes 200 handlers")
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        run(db, args)


if __name__ == "__main__":
    main()
