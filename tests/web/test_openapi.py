"""Issue 16, "OpenAPI 3": every JSON API is described at /api/openapi.json, and schemathesis,
driven by that description, finds no 500 and no hang in a live `dms serve` (gunicorn).

Authentication is set up so the handlers run, not only the 401: a logged-in archivist's
cookie with a same-origin Origin for the browser APIs, the station token for ingest, a
system token for events. The run is bounded (about 35 s of generation on an idle machine).
"""
from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hyp_settings
from schemathesis import GenerationMode

from dms.db.migrate import upgrade
from dms.db.session import session_scope
from dms.services.container import build_services
from dms.services.events import create_system_token
from dms.services.users import create_user
from dms.settings import Settings
from dms.testing.live_server import live_server, settings_env
from dms.web.app import create_app
from dms.web.openapi import spec
from tests.ingest.conftest import RecordingDispatcher
from tests.physical.conftest import seed_customer

PASSWORD = "openapi-pw-12"
STATION = "station-token-for-openapi"
BUDGET_S = 35.0  # generation stops here; with start-up the test stays under ~60 s idle
EXAMPLES = 12  # per operation and generation mode
TIMEOUT_S = 15.0  # a request slower than this is a hang


def test_every_api_route_is_described(settings: Settings) -> None:
    upgrade(settings.database_url)
    app = create_app(settings, dispatcher=RecordingDispatcher())
    described = {(method.upper(), path) for path, ops in spec()["paths"].items()
                 for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "openapi.openapi_json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (method, path) in described, f"{method} {path} is not in the OpenAPI"
    served = app.test_client().get("/api/openapi.json").get_json()
    assert served["openapi"].startswith("3.") and "EventIn" in served["components"]["schemas"]


@dataclass
class Live:
    base: str
    cookie_session: requests.Session
    system_token: str


@pytest.fixture
def live(settings: Settings, tmp_path: Path) -> Iterator[Live]:
    upgrade(settings.database_url)
    services = build_services(settings)
    with session_scope(services.sessions) as s:
        create_user(s, "arch", PASSWORD, "archivist")
        seed_customer(s, "3301000001", "张三", business_no="YK3301000001")
    system_token = create_system_token(services, "yx")
    services.close()
    env = settings_env(settings, DMS_STATION_TOKEN=STATION, DMS_LOG_LEVEL="WARNING")
    with live_server(env, tmp_path / "serve.log") as base:
        sess = requests.Session()
        page = sess.get(base + "/login", timeout=TIMEOUT_S).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        r = sess.post(base + "/login", data={"username": "arch", "password": PASSWORD,
                                             "csrf_token": token.group(1)},
                      allow_redirects=False, timeout=TIMEOUT_S)
        assert r.status_code == 302, r.text[:300]
        yield Live(base, sess, system_token)


@dataclass
class Tally:
    examples: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _headers(op: Any, live: Live) -> dict[str, str]:
    path: str = op.path
    if path.startswith("/api/v1/events"):
        return {"Authorization": f"Bearer {live.system_token}"}
    if path.startswith("/api/v1/ingest"):
        return {"Authorization": f"Bearer {STATION}"}
    return {"Origin": live.base}  # the session cookie rides on live.cookie_session


def _fuzz(op: Any, mode: GenerationMode, live: Live, tally: Tally, deadline: float) -> None:
    name = f"{op.method.upper()} {op.path}"

    @hyp_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        try:
            resp = case.call(base_url=live.base, session=live.cookie_session,
                             headers=_headers(op, live), timeout=TIMEOUT_S)
        except requests.Timeout:
            tally.failures.append(f"{name}: no answer in {TIMEOUT_S:.0f} s")
            return
        tally.examples[name] += 1
        tally.statuses.setdefault(name, Counter())[resp.status_code] += 1
        if resp.status_code >= 500:
            tally.failures.append(f"{name} -> {resp.status_code}: {case.as_curl_command()}"
                                  f"\n{resp.text[:300]}")

    run()


def test_schemathesis_finds_no_500_and_no_hang(live: Live) -> None:
    schema = schemathesis.openapi.from_url(live.base + "/api/openapi.json", timeout=TIMEOUT_S)
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) == sum(len(methods) for methods in spec()["paths"].values())
    tally = Tally()
    deadline = time.monotonic() + BUDGET_S
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for op in ops:
            _fuzz(op, mode, live, tally, deadline)
    report = "\n".join(f"  {n:50s} {tally.examples[n]:4d} examples  "
                       f"{dict(sorted(tally.statuses.get(n, Counter()).items()))}"
                       for n in sorted({f'{o.method.upper()} {o.path}' for o in ops}))
    print(f"\nschemathesis: {sum(tally.examples.values())} requests, "
          f"{len(tally.failures)} failures\n{report}")
    assert not tally.failures, "\n".join(tally.failures[:10])
    # The handlers ran: not every answer was an authentication refusal.
    assert all(set(c) - {401, 403} for c in tally.statuses.values()), report
    banner = live.cookie_session.get(live.base + "/healthz", timeout=TIMEOUT_S).headers
    assert not re.search(r"\d", banner.get("Server", "")), banner.get("Server")
