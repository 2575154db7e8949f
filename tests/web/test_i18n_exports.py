"""CSV/XLSX exports in the reader's language (issue 19): the gap report's headings and
statuses, the audit log's headings, actions, objects and states; Chinese by default, English
for a user who chose it; the CLI in the deployment's language."""
from __future__ import annotations

import csv
import io

from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import load_workbook

from dms.cli import cli
from tests.web.conftest import Archive


def _csv(client: FlaskClient, url: str) -> list[list[str]]:
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    return list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))


def _column(rows: list[list[str]], heading: str) -> set[str]:
    i = rows[0].index(heading)
    return {r[i] for r in rows[1:]}


def test_gap_report_csv_and_xlsx_in_the_users_language(archive: Archive) -> None:
    admin = archive.as_("admin")
    zh = _csv(admin, "/reports/gaps?format=csv")
    assert zh[0][:3] == ["户号", "户名", "班组"]
    assert {"缺失", "低置信度"} <= _column(zh, "状态")
    assert _column(zh, "业务类型") == {"低压居民新装"}

    admin.get("/lang/en")  # the user's choice, kept in the session
    en = _csv(admin, "/reports/gaps?format=csv")
    assert en[0][:3] == ["Customer no.", "Name", "Team"]
    assert {"Missing", "Low confidence"} <= _column(en, "State")
    assert len(en) == len(zh)

    r = admin.get("/reports/gaps?format=xlsx")
    ws = load_workbook(io.BytesIO(r.get_data())).active
    assert ws is not None and ws.title == "Checklist gaps"
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0][:3] == ["Customer no.", "Name", "Team"]
    status = cells[0].index("State")
    assert {"Missing", "Low confidence"} <= {row[status] for row in cells[1:]}


def test_audit_csv_in_the_users_language(archive: Archive) -> None:
    admin = archive.as_("admin")
    zh = _csv(admin, "/admin/audit.csv")
    assert zh[0][:5] == ["序号", "时间", "用户", "操作代码", "操作"]
    assert {"组卷", "装盒", "状态流转"} <= _column(zh, "操作")
    assert {"卷宗", "档案盒", "业务"} <= _column(zh, "对象类型")
    assert any(d.startswith("待移交卷宗→已归档") for d in _column(zh, "详情"))

    en = _csv(admin, "/admin/audit.csv?lang=en")
    assert en[0][:5] == ["No.", "Time", "User", "Action code", "Action"]
    assert {"volume_formed", "transition"} <= _column(en, "Action code")  # codes stay
    assert {"Volume formed", "Boxed", "State change"} <= _column(en, "Action")
    assert {"Volumes", "Boxes"} <= _column(en, "Object type")
    assert any(d.startswith("Pending shelving→Archived") for d in _column(en, "Details"))


def test_cli_exports_in_the_deployments_language(archive: Archive, runner: CliRunner) -> None:
    zh = runner.invoke(cli, ["report", "gaps", "--all", "--format", "csv"])
    assert zh.exit_code == 0, zh.output
    assert zh.output.lstrip("\ufeff").startswith("户号,户名,班组")
    en = runner.invoke(cli, ["report", "gaps", "--all", "--format", "csv"],
                       env={"DMS_DEFAULT_LOCALE": "en"})
    assert en.exit_code == 0, en.output
    rows = list(csv.reader(io.StringIO(en.output.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Customer no.", "Name", "Team"]
    assert "Missing" in _column(rows, "State")
    audit = runner.invoke(cli, ["audit", "export"], env={"DMS_DEFAULT_LOCALE": "en"})
    assert audit.exit_code == 0, audit.output
    assert audit.output.lstrip("\ufeff").startswith("No.,Time,User,Action code,Action")
