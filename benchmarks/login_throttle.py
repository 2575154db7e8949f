"""Login throttling and user-name enumeration by timing (issue 16), through the real app.

Against a fresh SQLite deployment in a temp directory, with the Flask app and CSRF on, as a
browser logs in (GET the form, POST it back with its token):

  (a) per account: 100 wrong passwords for one account, each from another address, as fast
      as possible; how many were checked (401) before the account was throttled (429), and
      whether the right password then works — i.e. attempts allowed per account per window;
  (b) per address: 100 wrong passwords from one address, each for another (unknown) name;
  (c) timing: POST /login with a wrong password for an existing name vs for an unknown
      name, alternated, --rounds each; medians in ms and their ratio unknown / known. The
      baseline (known name, a real scrypt verification) is measured in the same run. The
      throttle table is emptied between attempts so (c) measures the check, not the 429.

Usage:  .venv/bin/python benchmarks/login_throttle.py [--rounds 40]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import delete

from dms.db.migrate import upgrade
from dms.db.models_security import LoginFailure
from dms.db.session import session_scope
from dms.services import login_throttle
from dms.services.container import build_services
from dms.services.users import create_user
from dms.settings import load_settings
from dms.web.app import create_app

PASSWORD = "bench-password-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class NoQueue:
    """Logins dispatch nothing; the app only needs something to hand OCR work to."""

    def ocr_document(self, document_id: int) -> None: ...
    def ocr_page(self, page_id: int) -> None: ...
    def finalize_document(self, document_id: int) -> None: ...


def attempt(client: FlaskClient, username: str, password: str, addr: str) -> int:
    m = TOKEN.search(client.get("/login").get_data(as_text=True))
    assert m
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": m.group(1)},
                       environ_base={"REMOTE_ADDR": addr}).status_code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "var", secret_key=os.urandom(24).hex(),
                                 _env_file=None)
        upgrade(settings.database_url)
        services = build_services(settings)
        with session_scope(services.sessions) as s:
            create_user(s, "victim", PASSWORD, "handler")
        app = create_app(settings, dispatcher=NoQueue(), services=services)
        window_min = login_throttle.WINDOW.total_seconds() / 60

        # (a) one account, many addresses
        t0 = time.monotonic()
        codes = [attempt(app.test_client(), "victim", "wrong-password-x", f"10.0.0.{i + 1}")
                 for i in range(100)]
        checked, elapsed = codes.count(401), time.monotonic() - t0
        right = attempt(app.test_client(), "victim", PASSWORD, "10.9.9.9")
        print(f"(a) per account: {checked} of 100 wrong passwords checked in {elapsed:.1f} s, "
              f"then 429; the right password then answers {right}")
        print(f"    allowed per account: {checked} per {window_min:.0f} min "
              f"(= {checked / window_min:.2f}/min sustained, at most {checked} in any minute)")

        # (b) one address, many names
        with session_scope(services.sessions) as s:
            s.execute(delete(LoginFailure))
        c = app.test_client()
        codes = [attempt(c, f"guess{i}", "wrong-password-x", "10.1.1.1") for i in range(100)]
        checked = codes.count(401)
        print(f"(b) per address: {checked} of 100 attempts (different names) checked, then 429")
        print(f"    allowed per address: {checked} per {window_min:.0f} min "
              f"(= {checked / window_min:.2f}/min sustained, at most {checked} in any minute)")

        # (c) known vs unknown name, alternated
        known: list[float] = []
        unknown: list[float] = []
        c = app.test_client()
        attempt(c, "nobody-warmup", "x" * 12, "10.2.0.1")  # first use builds the dummy hash
        pair = (("victim", known), ("nobody-here", unknown))
        for r in range(args.rounds):
            for name, into in pair if r % 2 else pair[::-1]:  # neither always goes first
                with session_scope(services.sessions) as s:
                    s.execute(delete(LoginFailure))
                t = time.perf_counter()
                status = attempt(c, name, "wrong-password-x", "10.2.0.1")
                into.append((time.perf_counter() - t) * 1000)
                assert status == 401, status
        mk, mu = statistics.median(known), statistics.median(unknown)
        ratios = [u / k for k, u in zip(known, unknown, strict=True)]
        print(f"(c) POST /login, wrong password, median of {args.rounds}: known name "
              f"{mk:.1f} ms, unknown name {mu:.1f} ms; unknown/known = {mu / mk:.2f} "
              f"(difference {mu - mk:+.1f} ms); median of paired ratios "
              f"{statistics.median(ratios):.2f}; os.getloadavg {os.getloadavg()[0]:.1f}")
        services.close()


if __name__ == "__main__":
    main()
