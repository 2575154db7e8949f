"""The CSV download is formatted by the database (PostgreSQL: COPY); it must be the same
bytes on SQLite and PostgreSQL and say what the row-by-row report says."""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dms.db.migrate import upgrade
from dms.db.models import Customer
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.gap_report import COLUMNS, GapFilter, gap_csv_chunks, gap_rows, named_rows
from dms.services.report_formats import HEADINGS_ZH, csv_datetime
from dms.settings import load_settings
from dms.testing.postgres import ThrowawayPostgres
from tests.reports import conftest
from tests.reports.conftest import T0, business, doc, hours, team, user

BELOW = 0.6


def _fill(s: Session) -> None:
    """Awkward values on purpose: quotes, commas, a line break, an empty name, no team
    leader, confidences on a rounding edge, a step completed at an odd second."""
    conftest._n = itertools.count(1)  # the same customer and business numbers every time
    t, k = team(s, "YYB"), team(s, "D,K\"H")
    h = user(s, "h1", t)
    h.display_name = '经办"甲", 一组'
    b1 = business(s, t, "HV_NEW", agent=True, handler=h, customer_no="3300000001",
                  steps={"accept": T0 + hours(1.51), "survey": T0 + hours(30)})
    s.get(Customer, b1.customer_id).name = "张三,\n李四"  # type: ignore[union-attr]
    for code, confirmed, conf in (("YDSQS", True, 0.5), ("SFZM", False, 0.0625),
                                  ("SFZM", False, 0.1235), ("KCD", False, 1.0),
                                  ("SQWTS", False, None)):
        doc(s, b1, code, confirmed=confirmed, confidence=conf)
    b2 = business(s, k, "RENAME", customer_no="3300000002")
    s.get(Customer, b2.customer_id).name = ""  # type: ignore[union-attr]
    doc(s, b2, "GYDHT", confirmed=False, confidence=0.61)
    business(s, t, "SUSPEND", customer_no="3300000001", created=T0 + hours(2))


def _csv(svc: Services, f: GapFilter = GapFilter()) -> str:
    with session_scope(svc.sessions) as s:
        return "".join(gap_csv_chunks(s, svc.checklist, BELOW, f))


@pytest.fixture
def both(tmp_path: Path, postgres: ThrowawayPostgres) -> Iterator[tuple[Services, Services]]:
    made = []
    for url in (f"sqlite:///{tmp_path / 'c.sqlite'}", postgres.create_database("csvsame")):
        upgrade(url)
        svc = build_services(load_settings(data_dir=tmp_path / "var", database_url=url,
                                           secret_key="test" * 32, _env_file=None))
        with session_scope(svc.sessions) as s:
            _fill(s)
        made.append(svc)
    yield made[0], made[1]
    for svc in made:
        svc.close()


@pytest.mark.postgres
def test_sqlite_and_postgres_write_the_same_csv(both: tuple[Services, Services]) -> None:
    lite, pg = both
    for f in (GapFilter(), GapFilter(team="YYB"), GapFilter(customer_no="3300000002"),
              GapFilter(only_gaps=True), GapFilter(teams=("YYB", 'D,K"H'))):
        assert _csv(lite, f) == _csv(pg, f), f
    text = _csv(pg)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [HEADINGS_ZH[c] for c in COLUMNS]
    by_type = {r[COLUMNS.index("doc_type")]: r for r in rows[1:]
               if r[COLUMNS.index("business_type")] == "高压新装"}  # names, not codes
    assert by_type["YDSQS"][COLUMNS.index("customer_name")] == "张三,\n李四"
    assert by_type["YDSQS"][COLUMNS.index("handler")] == '经办"甲", 一组'
    assert by_type["YDSQS"][COLUMNS.index("confidence")] == "0.500"
    assert by_type["SFZM"][COLUMNS.index("confidence")] == "0.124"  # the higher of the two, half up
    assert by_type["KCD"][COLUMNS.index("status")] == "未确认"
    assert by_type["SQWTS"][COLUMNS.index("confidence")] == ""
    assert by_type["YYZZ"][COLUMNS.index("open_since")] == "2026-03-02 18:30+08:00"
    assert by_type["YYZZ"][COLUMNS.index("document_id")] == ""
    assert 'D,K"H' in {r[COLUMNS.index("team")] for r in rows[1:]}


def test_csv_says_what_the_rows_say(svc: Services, session: Session) -> None:
    """Per database: the CSV cells are the row-by-row report's values, formatted."""
    _fill(session)
    session.commit()
    text = "".join(gap_csv_chunks(session, svc.checklist, BELOW, GapFilter()))
    got = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    want = []
    for r in named_rows(gap_rows(session, svc.checklist, BELOW), svc.checklist):
        conf = r["confidence"]
        want.append([
            "" if r[c] is None else str(r[c]) for c in COLUMNS[:10]] + [
            "" if conf is None else f"{int(conf * 1000 + 0.5) / 1000:.3f}",
            csv_datetime(r["open_since"]) if r["open_since"] else ""])
    assert got == want


def test_filtered_and_whole_reports_agree(svc: Services, session: Session) -> None:
    """A report of everyone aggregates all documents before the join, a filtered one only
    those of the businesses it covers: the same pairs either way."""
    _fill(session)
    session.flush()
    everyone = list(gap_rows(session, svc.checklist, BELOW))
    per_team = [r for t in ("YYB", 'D,K"H')
                for r in gap_rows(session, svc.checklist, BELOW, GapFilter(team=t))]
    key = lambda r: (r["customer_no"], r["business_no"], r["doc_type"])  # noqa: E731
    assert sorted(everyone, key=key) == sorted(per_team, key=key)
    cl = svc.checklist
    assert len(everyone) == (len(cl.required_for("HV_NEW", {"accept", "survey"}, agent=True))
                             + len(cl.required_for("RENAME")) + len(cl.required_for("SUSPEND")))
