"""The route × role walk: every route of the app, with every subject of the access policy
and anonymously, against own-team and other-team objects, compared with the policy table.

A small archive is seeded (two teams, each with a customer, a business, a document with a
page in the store and the index, a volume in a shelved box, a loan, an upload batch of its
own station); URL parameters, query strings and bodies are filled from it. An answer
agrees with the policy when it is 2xx/3xx (or a 4xx about the input, 400/409) where the
policy allows, and 401/403/404 or a redirect to the login where it does not. A 5xx is
always a violation. ``tests/web/test_access_policy.py`` and ``benchmarks/policy_matrix.py``
run this walk.
"""
from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from dms.db.models import Business, Customer, Document, Page
from dms.db.session import session_scope
from dms.domain.access import TOKEN_ACTIONS, Action, Scope, in_scope, scope
from dms.services import lending, physical, tokens
from dms.services.container import Services
from dms.services.indexing import index_document
from dms.services.users import create_user, ensure_team
from dms.web.access import action_of
from ingest.writer import create_batch

PASSWORD = "policy-walk-pw-1"
TEAMS = (("YYB", "营业班"), ("DKH", "大客户经理班"))
# Text with personal data in it: what masking must hide from roles that do not need it.
PAGE_TEXT = ("低压供用电合同 客户 {name} 身份证号 370102199001013299 "
             "联系电话 13812341234 开户账号 6222021234567890123")
# 1×1 white PNG: a real image the page route can stream.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4ed0000"
                    "000049454e44ae426082")


@dataclass
class Objects:
    """One team's seeded archive."""

    team_id: int
    team_code: str
    customer_no: str
    business_no: str
    doc_id: int
    volume_no: str
    box_code: str
    slot_code: str
    loan_id: int
    loan_requester_id: int
    batch_id: int
    station: str


@dataclass
class Walker:
    label: str
    subject: str | None         # a role, "system", or None (anonymous)
    username: str | None = None
    user_id: int | None = None
    team_id: int | None = None
    token: str | None = None    # bearer token of a station or the marketing system
    station: str | None = None


@dataclass
class Outcome:
    walker: str
    method: str
    url: str
    endpoint: str
    action: str
    case: str
    expected: str   # allow | deny | public
    status: int
    ok: bool


@dataclass
class WalkResult:
    routes: int = 0
    subjects: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return len(self.outcomes)

    @property
    def violations(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def seed(services: Services) -> tuple[dict[str, Objects], list[Walker]]:
    """Two teams' archives and one walker per subject (handler and collector of team A)."""
    now = datetime.now(UTC)
    with session_scope(services.sessions) as s:
        teams = [ensure_team(s, code, name) for code, name in TEAMS]
        ensure_team(s, "FW", "法律事务部")
        people = {
            "handler": create_user(s, "w-handler", PASSWORD, "handler", team_code="YYB"),
            "collector": create_user(s, "w-collector", PASSWORD, "collector", team_code="YYB"),
            "archivist": create_user(s, "w-archivist", PASSWORD, "archivist"),
            "dispute": create_user(s, "w-dispute", PASSWORD, "dispute", team_code="FW"),
            "manager": create_user(s, "w-manager", PASSWORD, "manager"),
            "station": create_user(s, "w-station", PASSWORD, "station"),
            "admin": create_user(s, "w-admin", PASSWORD, "admin"),
        }
        other_handler = create_user(s, "w-handler-b", PASSWORD, "handler", team_code="DKH")
        requesters = [people["handler"], other_handler]
        physical.create_room(s, number=1, name="一号档案室", actor="seed", sections=2, levels=2)
        boxes = [b.code for b in physical.create_boxes(s, count=2, actor="seed")]
        docs: list[int] = []
        made: list[dict[str, Any]] = []
        for i, team in enumerate(teams, 1):
            name = f"客户{i}"
            c = Customer(customer_no=f"33010000{i:02d}", name=name, team_id=team.id,
                         address="济南市历下区")
            b = Business(business_no=f"YK20260000{i:02d}", customer=c, business_type="LV_RES_NEW",
                         archive_state="pending_shelving", team_id=team.id)
            key = hashlib.sha256(name.encode()).hexdigest()
            services.store.put_bytes(f"originals/{key}", b"%PDF-1.4 policy walk\n")
            services.store.put_bytes(f"pages/{key}/1.png", PNG)
            services.store.put_bytes(f"pages/{key}/1.words.json", b"[]")
            services.store.put_bytes(f"searchable/{key}.pdf", b"%PDF-1.4 searchable\n")
            d = Document(sha256=key, customer=c, business=b, doc_type="GYDHT", title=f"合同 {name}",
                         source_name=f"{c.customer_no}/合同.pdf", mime="application/pdf",
                         size_bytes=20, original_key=f"originals/{key}", page_count=1,
                         searchable_pdf_key=f"searchable/{key}.pdf", ocr_status="done",
                         facts={"id_number": "370102199001013299"})
            d.pages.append(Page(page_no=1, image_key=f"pages/{key}/1.png",
                                words_key=f"pages/{key}/1.words.json", ocr_status="done",
                                text=PAGE_TEXT.format(name=name)))
            s.add_all([c, b, d])
            s.flush()
            docs.append(d.id)
            vol = physical.form_volume(s, actor="seed", business_no=b.business_no)
            physical.put_volume_in_box(s, volume_no=vol.volume_no, box_code=boxes[i - 1],
                                       user=people["archivist"], checklist=services.checklist,
                                       now=now)
            slot = f"R01-J01-A-01-{i}"
            physical.move_box(s, box_code=boxes[i - 1], slot_code=slot,
                              user=people["archivist"], checklist=services.checklist, now=now)
            loan = lending.request_loan(s, volume_no=vol.volume_no, user=requesters[i - 1],
                                        reason="dispute", now=now)
            made.append(dict(team_id=team.id, team_code=team.code, customer_no=c.customer_no,
                             business_no=b.business_no, doc_id=d.id, volume_no=vol.volume_no,
                             box_code=boxes[i - 1], slot_code=slot, loan_id=loan.id,
                             loan_requester_id=requesters[i - 1].id))
        ids = {k: (u.id, u.team_id) for k, u in people.items()}
    for doc_id in docs:
        with session_scope(services.sessions) as s:
            index_document(s, services.index, doc_id)
    station_tokens = {}
    for i, m in enumerate(made, 1):
        station = f"station-{i}"
        station_tokens[station] = tokens.create_token(services, "station", station)[1]
        m.update(station=station, batch_id=create_batch(services, f"upload:{station}",
                                                        status="open"))
    _, system_token = tokens.create_token(services, "system", "yingxiao")
    objs = {"own": Objects(**made[0]), "other": Objects(**made[1])}
    walkers = [Walker("anonymous", None)]
    for role, (uid, team_id) in ids.items():
        label = f"{role}@YYB" if team_id == made[0]["team_id"] else role
        walkers.append(Walker(label, role, f"w-{role}", uid, team_id,
                              station_tokens["station-1"] if role == "station" else None,
                              "station-1" if role == "station" else None))
    walkers.append(Walker("system", "system", token=system_token))
    return objs, walkers


# URL parameters filled from a case's objects (the route is then walked for both cases).
_OBJECT_PARAMS: dict[str, Callable[[Objects], Any]] = {
    "doc_id": lambda o: o.doc_id, "customer_no": lambda o: o.customer_no,
    "business_no": lambda o: o.business_no, "volume_no": lambda o: o.volume_no,
    "code": lambda o: o.box_code, "loan_id": lambda o: o.loan_id,
    "batch_id": lambda o: o.batch_id,
}
_PLAIN_PARAMS: dict[str, list[Any]] = {"page_no": [1], "category": ["pending_add"],
                                       "kind": ["boxes"], "action": ["approve", "cancel"],
                                       # ids of rows no seeded object names (a 404 at most)
                                       "row_id": [1], "handler_id": [1]}
_ENDPOINT_PARAMS: dict[str, dict[str, list[Any]]] = {"auth.set_lang": {"code": ["zh_CN"]}}


@dataclass(frozen=True)
class Extra:
    """What a route is sent besides its URL: query or body built from a case's objects."""

    make: Callable[[Objects], dict[str, Any]]
    scoped: bool = False   # the objects it names decide the answer (own vs other team)
    methods: tuple[str, ...] = ("GET", "POST")


_EXTRAS: dict[str, Extra] = {
    "search.page": Extra(lambda o: {"q": "合同"}),
    "search.api": Extra(lambda o: {"q": "合同"}),
    "reports.overview": Extra(lambda o: {"team": o.team_code}, scoped=True),
    "reports.gaps": Extra(lambda o: {"team": o.team_code}, scoped=True),
    "reports.missing_facts_download": Extra(lambda o: {"team": o.team_code}, scoped=True),
    "physical.label_pdf": Extra(lambda o: {"codes": o.box_code}),
    "physical.api_suggest": Extra(lambda o: {"box": o.box_code}),
    # GET opens a customer's file (refused for another team's); POST is a search, whose
    # answer for another team's customer is "nothing found" (tests/web/test_scoping.py).
    "physical.dispute_view": Extra(lambda o: {"customer": o.customer_no}, scoped=True,
                                   methods=("GET",)),
    "physical.scan": Extra(lambda o: {"mode": "locate", "code": o.box_code}, scoped=True,
                           methods=("POST",)),
    "physical.api_loan_request": Extra(lambda o: {"volume_no": o.volume_no,
                                                  "reason": "dispute"}, scoped=True),
    "physical.api_move": Extra(lambda o: {"box": o.box_code, "slot": o.slot_code}),
    "physical.api_return": Extra(lambda o: {"volume_no": o.volume_no}),
    "physical.api_rooms": Extra(lambda o: {"number": 9, "sections": 1, "levels": 1}),
    "physical.api_boxes": Extra(lambda o: {"count": 1}),
    "physical.api_volumes": Extra(lambda o: {"business_no": o.business_no}),
    "physical.api_stocktake": Extra(lambda o: {"first": o.slot_code, "last": o.slot_code,
                                               "scans": []}),
}
# Walked after everything else: they throw away what later requests read, or sign out.
_LAST = ("documents.reprocess", "auth.logout")
_LOAN_ACTIONS = (Action.LOAN_READ, Action.LOAN_CANCEL, Action.LOAN_DECIDE, Action.LOAN_REQUEST)


@dataclass
class Request:
    method: str
    endpoint: str
    rule: str
    view_args: dict[str, Any]
    case: str                      # own | other | "-" (the route names no object)
    objects: Objects
    extra: dict[str, Any]


def requests_of(app: Flask, objs: dict[str, Objects]) -> tuple[list[Request], int]:
    """Every (route, method, case) of the app's url_map with its filled-in arguments."""
    out: list[Request] = []
    routes = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        routes += 1
        extra = _EXTRAS.get(rule.endpoint)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            scoped = any(a in _OBJECT_PARAMS for a in rule.arguments) or bool(
                extra and extra.scoped and method in extra.methods)
            for case in (("own", "other") if scoped else ("-",)):
                o = objs["own" if case == "-" else case]
                fixed = _ENDPOINT_PARAMS.get(rule.endpoint, {})
                combos: list[dict[str, Any]] = [{}]
                for arg in sorted(rule.arguments):
                    values = fixed.get(arg) or ([_OBJECT_PARAMS[arg](o)] if arg in _OBJECT_PARAMS
                                                else _PLAIN_PARAMS.get(arg, ["x"]))
                    combos = [{**c, arg: v} for c in combos for v in values]
                body = extra.make(o) if extra and method in extra.methods else {}
                out += [Request(method, rule.endpoint, rule.rule, c, case, o, body)
                        for c in combos]
    return out, routes


def expected(walker: Walker, action: Action, req: Request) -> str:
    if action is Action.PUBLIC:
        return "public"
    if walker.subject is None:
        return "deny"
    if walker.subject == "system" and action not in TOKEN_ACTIONS:
        return "deny"  # a system has a token, never a session
    if action in TOKEN_ACTIONS and walker.token is None:
        return "deny"  # token APIs take no session
    sc = scope(walker.subject, action)
    if sc is Scope.NONE:
        return "deny"
    if req.case == "-":
        return "allow"
    o = req.objects
    owns = (o.loan_requester_id == walker.user_id if action in _LOAN_ACTIONS
            else o.station == walker.station if action in TOKEN_ACTIONS else False)
    return "allow" if in_scope(sc, actor_team_id=walker.team_id, object_team_id=o.team_id,
                               actor_owns=owns) else "deny"


def _login(app: Flask, walker: Walker) -> FlaskClient:
    client = app.test_client()
    if walker.username:
        res = client.post("/login", data={"username": walker.username, "password": PASSWORD})
        assert res.status_code == 302, f"{walker.username} cannot log in ({res.status_code})"
    return client


def agrees(expect: str, status: int, location: str) -> bool:
    if status >= 500:
        return False
    if expect == "public":
        return True
    denied = status in (401, 403, 404) or (300 <= status < 400 and "/login" in location)
    return denied if expect == "deny" else not denied


def walk(app: Flask, objs: dict[str, Objects], walkers: list[Walker]) -> WalkResult:
    reqs, routes = requests_of(app, objs)
    result = WalkResult(routes=routes, subjects=len(walkers))
    # Requests that throw away what others read, or sign out, go after everyone's reads.
    for phase in ([r for r in reqs if r.endpoint not in _LAST],
                  [r for r in reqs if r.endpoint in _LAST]):
        for walker in walkers:
            _walk_one(app, walker, phase, result)
    return result


def _walk_one(app: Flask, walker: Walker, reqs: list[Request], result: WalkResult) -> None:
    client = _login(app, walker)
    headers = {"Authorization": f"Bearer {walker.token}"} if walker.token else {}
    for req in reqs:
        view = app.view_functions[req.endpoint]
        action = action_of(view, req.view_args)
        if action is None:
            raise AssertionError(f"{req.rule} declares no action")
        with app.test_request_context():
            url = url_for(req.endpoint, **req.view_args)
        res = _send(client, req, url, headers)
        res.get_data()  # a streamed body is read to its end and closed in this request
        res.close()
        exp = expected(walker, action, req)
        result.outcomes.append(Outcome(walker.label, req.method, url, req.endpoint,
                                       action.value, req.case, exp, res.status_code,
                                       agrees(exp, res.status_code,
                                              res.headers.get("Location", ""))))
        if req.endpoint in ("auth.logout", "auth.login"):
            client = _login(app, walker)


def _send(client: FlaskClient, req: Request, url: str, headers: dict[str, str]) -> Any:
    if req.method == "GET":
        return client.get(url, query_string=req.extra, headers=headers)
    if url.startswith("/api/v1/ingest/") and url.endswith("/files"):
        return client.post(url, data={"file": (io.BytesIO(b""), "")}, headers=headers,
                           content_type="multipart/form-data")
    if url.startswith("/api/"):
        return client.post(url, data=json.dumps(req.extra), headers=headers,
                           content_type="application/json")
    return client.post(url, data=req.extra, headers=headers)


def matrix(result: WalkResult) -> dict[str, dict[str, int]]:
    """Checked requests per walker and expectation, for the benchmark's table."""
    out: dict[str, dict[str, int]] = {}
    for o in result.outcomes:
        row = out.setdefault(o.walker, {"allow": 0, "deny": 0, "public": 0, "violations": 0})
        row[o.expected] += 1
        row["violations"] += 0 if o.ok else 1
    return out
