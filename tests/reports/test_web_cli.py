"""The adapters: the reports pages and downloads, ``dms report gaps``, the weekly report
through the (log) notifier. SQLite only: the SQL itself is tested on both databases."""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from dms.cli import cli
from dms.db.session import session_scope
from dms.services.container import Services
from dms.services.team_report import send_weekly_reports
from dms.services.users import create_user
from tests.reports.conftest import T0, business, doc, team

PW = "reports-pw-1"
AsUser = Callable[[str], FlaskClient]  # a client signed in as that user


@pytest.fixture
def sqlite_svc(web_services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The shared migrated archive (tests/conftest.py) with two teams' businesses; the
    environment points a plain ``CliRunner()`` at it too (tests/reports/test_gap_table.py)."""
    monkeypatch.setenv("DMS_DATA_DIR", str(web_services.settings.data_dir))
    monkeypatch.setenv("DMS_DATABASE_URL", web_services.settings.database_url)
    with session_scope(web_services.sessions) as s:
        yyb, dkh = team(s, "YYB", leader="lead"), team(s, "DKH")
        b = business(s, yyb, "SUSPEND", customer_no="3301000001", steps={"accept": T0})
        doc(s, b, "BGSQ")
        business(s, dkh, "RENAME", customer_no="3302000002")
        create_user(s, "mgr", PW, "manager", display_name="营销部")
        create_user(s, "h1", PW, "handler", team_code="YYB", display_name="经办甲")
    return web_services


@pytest.fixture
def as_user(app: Flask) -> AsUser:
    def login(username: str) -> FlaskClient:
        client = app.test_client()
        r = client.post("/login", data={"username": username, "password": PW})
        assert r.status_code == 302
        return client

    return login


def test_pages_filters_and_team_scope(sqlite_svc: Services, as_user: AsUser) -> None:
    mgr = as_user("mgr")
    page = mgr.get("/reports/").get_data(as_text=True)
    assert 'id="completeness-chart"' in page and "<rect" in page
    assert "YYB" in page and "DKH" in page
    gaps = mgr.get("/reports/gaps?customer=3301000001").get_data(as_text=True)
    assert "3301000001" in gaps and "3302000002" not in gaps
    assert "客户身份证明" in gaps and "/documents/" in gaps  # BGSQ present: linked
    handler = as_user("h1")
    mine = handler.get("/reports/gaps").get_data(as_text=True)
    assert "3301000001" in mine and "3302000002" not in mine
    assert handler.get("/reports/gaps?team=DKH").status_code == 403
    assert handler.get("/reports/?group_by=nope").status_code == 400


def test_downloads(sqlite_svc: Services, as_user: AsUser) -> None:
    mgr = as_user("mgr")
    r = mgr.get("/reports/gaps?format=csv&team=DKH")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "户号" and len(rows) == 1 + 4  # RENAME requires 4 types
    r = mgr.get("/reports/gaps?format=xlsx&only_gaps=1")
    ws = load_workbook(io.BytesIO(r.data), read_only=True).active
    assert ws is not None
    assert len(list(ws.iter_rows(values_only=True))) == 1 + 1 + 4  # SFZM + RENAME's 4
    r = mgr.get("/reports/gaps?format=pdf")
    assert r.data.startswith(b"%PDF") and r.mimetype == "application/pdf"


def test_cli_gaps(sqlite_svc: Services, runner: CliRunner, tmp_path: Path) -> None:
    r = runner.invoke(cli, ["report", "gaps", "--customer", "3301000001", "--format", "json"])
    assert r.exit_code == 0, r.output
    got = [json.loads(line) for line in r.output.splitlines()]
    assert [(g["doc_type"], g["status"]) for g in got] == [("BGSQ", "confirmed"),
                                                           ("SFZM", "missing")]
    out = tmp_path / "all.xlsx"
    r = runner.invoke(cli, ["report", "gaps", "--all", "--format", "xlsx", "--output", str(out)])
    assert r.exit_code == 0, r.output
    ws = load_workbook(out, read_only=True).active
    assert ws is not None and len(list(ws.iter_rows())) == 1 + 2 + 4
    r = runner.invoke(cli, ["report", "gaps", "--team", "DKH", "--format", "csv"])
    assert r.exit_code == 0 and r.output.count("3302000002") == 4
    r = runner.invoke(cli, ["report", "gaps", "--format", "csv"])
    assert r.exit_code != 0


def test_weekly_report_goes_to_the_team_leader(sqlite_svc: Services,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dms.notify")
    result = send_weekly_reports(sqlite_svc, T0)
    assert (result.teams, result.sent) == (2, 1)  # DKH has no leader
    text = caplog.text
    assert "lead" in text and "班组 YYB 档案周报" in text and "资料完整率 50.0%" in text
    assert "DKH" not in text


def test_customer_page_shows_the_gap_reports_gaps(
        sqlite_svc: Services, as_user: AsUser) -> None:
    """The customer page lists what the gap report says is missing: SUSPEND with only its
    accept step done requires BGSQ (present) and SFZM, not the survey's KCD yet."""
    with session_scope(sqlite_svc.sessions) as s:
        b = business(s, team(s, "ZBB"), "HV_NEW", customer_no="3301000001",
                     steps={"accept": T0})
        doc(s, b, "YDSQS", confirmed=False, confidence=0.3)
    page = as_user("mgr").get("/customers/3301000001").get_data(as_text=True)
    gaps = page.split('class="gaps"')
    assert len(gaps) == 3  # both businesses have gaps
    suspend, hv_new = gaps[1].split("</p>")[0], gaps[2].split("</p>")[0]
    assert "客户身份证明" in suspend and "现场勘查工作单" not in suspend
    assert "变更用电申请书" not in suspend
    assert "营业执照" in hv_new and "供用电合同" not in hv_new  # contract step not done
    assert "用电申请书 · 低置信度" in page  # present but unconfirmed, shown apart
