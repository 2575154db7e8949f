"""Chinese without leaks (issue 19): every page of the app, rendered in zh_CN for a role that
may see it on the seeded two-team archive of the policy walk, looks up only messages the
zh_CN catalog has and shows no English word of the en catalog nor a stored code (role,
state, type, action…) as visible text. The same pages render in English too."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from flask import Flask, url_for

from dms import translations
from dms.domain.checklist import Checklist
from dms.domain.audit import ACTION_NAMES_ZH as AUDIT_ACTIONS
from dms.domain.lending import LoanReason, LoanState
from dms.domain.lifecycle import GATE_NAMES_ZH, State
from dms.domain.reminders import Category, LimitStatus
from dms.domain.roles import Role
from dms.errors import ConflictError
from dms.services.events import receive_event
from dms.testing.policy_walk import requests_of
from dms.web import names
from hanzi.ranges import HAN
from tests.web.conftest import Archive

# Tried in this order: the first role the page answers 200 for renders it.
ROLES = ("admin", "archivist", "manager", "collector", "handler", "dispute", "station")
# Latin text a Chinese page may show: formats, units, the language switch, product names.
ALLOWED = {"pdf", "ocr", "csv", "xlsx", "json", "en", "id", "mb", "kva", "kb", "ok", "dms",
           "api", "png", "url", "http", "https", "s3", "utc", "gmt", "cer"}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*")


class VisibleText(HTMLParser):
    """Text a reader sees: text nodes outside script/style, and title/placeholder/alt.
    ``<code>`` holds machine data shown as stored (an audit entry's JSON details)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._hidden += 1
        for k, v in attrs:
            if k in ("title", "placeholder", "alt", "aria-label") and v:
                self.parts.append(v)
            if tag == "input" and k == "value" and v and ("type", "submit") in attrs:
                self.parts.append(v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    p = VisibleText()
    p.feed(html)
    return p.parts


def english_words(checklist: Checklist | None = None) -> set[str]:
    """Words of the English catalog and the codes stored in the database (roles, states,
    actions…, and the checklist's business, document type and step codes)."""
    words: set[str] = set()
    if checklist is not None:
        words |= {c.lower() for c in (*checklist.business_types, *checklist.document_types,
                                      *checklist.steps)}
    for text in translations.catalog("en")._catalog.values():  # type: ignore[attr-defined]
        words |= {w.lower() for w in _WORD.findall(text) if len(w) > 2}
    for enum in (Role, State, Category, LimitStatus, LoanState, LoanReason):
        words |= {m.value.lower() for m in enum}  # type: ignore[attr-defined]
    for table in (GATE_NAMES_ZH, AUDIT_ACTIONS, names.ACTION_NAMES_ZH,
                  names.TASK_KIND_NAMES_ZH, names.TASK_STATUS_NAMES_ZH,
                  names.EVENT_STATUS_NAMES_ZH):
        words |= {str(k).lower() for k in table}
    return words - ALLOWED


def leaks(html: str, forbidden: set[str]) -> list[str]:
    out = []
    for part in visible_text(html):
        hit = [w for w in _WORD.findall(part) if w.lower() in forbidden]
        if hit:
            out.append(f"{', '.join(hit)} in {part[:80]!r}")
    return out


@pytest.fixture
def missing() -> Iterator[list[tuple[str, str]]]:
    found: list[tuple[str, str]] = []

    def record(msgid: str, locale: str) -> None:
        found.append((msgid, locale))

    translations.missing_listeners.append(record)
    yield found
    translations.missing_listeners.remove(record)


def add_events(archive: Archive) -> None:
    """What the event pages list: an accepted event naming a handler no user is mapped to
    (a task in the team's queue), and a rejected one (another business type)."""
    now = datetime.now(UTC)
    base = {"customer_no": archive.own.customer_no, "business_no": archive.own.business_no,
            "completed_at": now.isoformat(), "team": archive.own.team_code}
    receive_event(archive.services, "yingxiao",
                  {**base, "event_id": "I18N-1", "business_type": "LV_RES_NEW",
                   "step": "accept", "handler": "YX0007"}, now=now)
    with pytest.raises(ConflictError):
        receive_event(archive.services, "yingxiao",
                      {**base, "event_id": "I18N-2", "business_type": "LV_NONRES_NEW",
                       "step": "scheme", "handler": "YX0007"}, now=now)


def rendered_pages(app: Flask, archive: Archive, lang: str) -> Iterator[tuple[str, str, str]]:
    """(endpoint, url, html) of every GET page some role may see, in ``lang``."""
    add_events(archive)
    objs = {"own": archive.own, "other": archive.other}
    clients = {role: archive.as_(role) for role in ROLES}
    reqs, _ = requests_of(app, objs)
    for req in reqs:
        if req.method != "GET" or req.case == "other" or req.rule.startswith("/api/") \
                or req.endpoint in ("auth.set_lang", "auth.logout", "health.live"):
            continue
        with app.test_request_context():
            url = url_for(req.endpoint, **req.view_args)
        for role in ROLES:
            res = clients[role].get(url, query_string={**req.extra, "lang": lang})
            body = res.get_data(as_text=res.mimetype == "text/html")
            if res.status_code == 200 and res.mimetype == "text/html":
                yield req.endpoint, url, str(body)
                break


def test_every_page_in_chinese_has_no_english(app: Flask, archive: Archive,
                                              missing: list[tuple[str, str]]) -> None:
    forbidden = english_words(archive.services.checklist)
    assert {"handler", "lv_res_new", "gydht", "pending_transfer", "archived",
            "approved"} <= forbidden
    seen, bad = set(), []
    for endpoint, url, html in rendered_pages(app, archive, "zh_CN"):
        seen.add(endpoint)
        bad += [f"{url}: {leak}" for leak in leaks(html, forbidden)]
    assert not bad, f"{len(bad)} English texts on Chinese pages:\n" + "\n".join(bad)
    assert not missing, "looked up but not in the zh_CN catalog: " + \
        ", ".join(sorted({m for m, _ in missing}))
    # Every area of the UI was rendered, not just the login page.
    assert {"home.index", "home.customers", "home.customer", "documents.show", "search.page",
            "inbox.inbox", "inbox.item", "inbox.review", "reports.overview", "reports.gaps",
            "audit.page", "events_admin.page", "physical.index",
            "review.queue"} <= seen, sorted(seen)
    assert len(seen) >= 25, sorted(seen)


def test_the_same_pages_render_in_english(app: Flask, archive: Archive,
                                          missing: list[tuple[str, str]]) -> None:
    pages = list(rendered_pages(app, archive, "en"))
    assert len(pages) >= 25
    home = next(html for endpoint, _, html in pages if endpoint == "home.index")
    assert "Customer Archive System" in home
    assert not missing, "no English for: " + ", ".join(sorted({m for m, _ in missing}))


def test_the_leak_check_finds_a_code_and_an_english_word() -> None:
    forbidden = english_words()
    html = ("<p>角色：handler</p><script>var s='pending_send'</script>"
            "<input title='Log out'><p>可检索PDF · w-admin</p>")
    assert leaks(html, forbidden) == ["handler in '角色：handler'",
                                      "Log, out in 'Log out'"]


def test_error_pages_in_chinese(app: Flask, archive: Archive) -> None:
    """A 4xx page says what happened in Chinese; a view's own (English) detail is shown as
    technical detail only."""
    forbidden = english_words(archive.services.checklist)
    handler = archive.as_("handler")
    for client, url, status, title in (
            (handler, "/documents/999999", 404, "未找到"),
            (handler, "/admin/audit", 403, "无权访问"),
            (archive.as_("admin"), "/reports/?group_by=nonsense", 400, "请求有误"),
            (app.test_client(), "/no/such/page", 404, "未找到")):
        r = client.get(url)
        html = r.get_data(as_text=True)
        assert r.status_code == status and f"{status} {title}" in html, (url, r.status_code)
        assert leaks(html, forbidden) == [], url
    en = handler.get("/documents/999999?lang=en").get_data(as_text=True)
    assert "404 Not found" in en


def test_language_switch_is_the_users_preference(app: Flask, archive: Archive) -> None:
    """/lang/en switches at once and is remembered for the user's next login; zh_CN is
    the default and switches back."""
    handler = archive.as_("handler")
    assert "客户档案管理系统" in handler.get("/").get_data(as_text=True)
    handler.get("/lang/en")
    assert "Customer Archive System" in handler.get("/").get_data(as_text=True)
    again = archive.as_("handler")  # a new login
    assert "Customer Archive System" in again.get("/").get_data(as_text=True)
    again.get("/lang/zh_CN")
    assert "客户档案管理系统" in archive.as_("handler").get("/").get_data(as_text=True)
    assert "客户档案管理系统" in archive.as_("admin").get("/").get_data(as_text=True)


def test_error_flashes_say_what_happened_in_chinese(app: Flask, archive: Archive) -> None:
    """A refused form: the flash names the kind of error in Chinese; the service's own
    (English) text follows only as technical detail."""
    forbidden = english_words(archive.services.checklist)
    admin = archive.as_("admin")
    with app.test_request_context():
        form_url = url_for("physical.volume_form")
    r = admin.post(form_url, data={"business_no": "YK9999999999"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "未找到：<code>business YK9999999999 not found</code>" in html
    assert leaks(html, forbidden) == []
    en = admin.post(form_url + "?lang=en", data={"business_no": "YK9999999999"},
                    follow_redirects=True).get_data(as_text=True)
    assert "Not found: <code>business YK9999999999 not found</code>" in en


def test_scan_answers_in_the_users_language(app: Flask, archive: Archive) -> None:
    admin = archive.as_("admin")
    with app.test_request_context():
        scan = url_for("physical.scan")
    zh = admin.post(scan, data={"mode": "locate", "code": archive.own.box_code})
    assert f"档案盒 {archive.own.box_code} 位于 R01-J01-A-01-1，内有 1 卷" in zh.get_data(
        as_text=True)
    en = admin.post(scan + "?lang=en", data={"mode": "locate", "code": archive.own.box_code})
    assert f"Box {archive.own.box_code} at R01-J01-A-01-1, holding 1 volumes" in en.get_data(
        as_text=True)


def test_classifier_status_line_in_both_languages(app: Flask, archive: Archive) -> None:
    """The review queue's classifier status came from the registry in Chinese only, so an
    English page said "分类器: 仅规则分类：已确认的文档还不够训练模型"."""
    handler = archive.as_("handler")
    status = re.compile(r'id="classifier-status">(.*?)</p>', re.S)
    zh = status.search(handler.get("/review").get_data(as_text=True))
    assert zh and "仅规则分类" in zh.group(1)
    en = status.search(handler.get("/review?lang=en").get_data(as_text=True))
    assert en and "Rules only" in en.group(1)
    assert not re.search(HAN, en.group(1)), en.group(1)
