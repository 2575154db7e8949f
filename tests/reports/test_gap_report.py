"""The gap report against the checklist's own ``required_for``/``missing`` as oracle."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dms.services.classification import confirm_type
from dms.services.container import Services
from dms.services.gap_report import GapFilter, customer_report, gap_rows
from tests.reports.conftest import T0, business, doc, hours, team

BELOW = 0.6


def _report(svc: Services, s: Session, **f: Any) -> list[dict[str, Any]]:
    return list(gap_rows(s, svc.checklist, BELOW, GapFilter(**f)))


def test_every_business_type_requires_its_checklist(svc: Services, session: Session) -> None:
    cl = svc.checklist
    t = team(session, "YYB")
    expected: dict[str, tuple[list[str], list[str]]] = {}
    for code in cl.business_types:
        b = business(session, t, code)
        required = cl.required_for(code)
        half = required[::2]  # every other type present
        for dt in half:
            doc(session, b, dt)
        expected[b.business_no] = (required, cl.missing(code, set(half)))
    session.flush()
    rows = _report(svc, session)
    for bno, (required, missing) in expected.items():
        mine = [r for r in rows if r["business_no"] == bno]
        assert [r["doc_type"] for r in mine] == required
        assert [r["doc_type"] for r in mine if r["status"] == "missing"] == missing
        assert all(r["open_since"] is not None for r in mine if r["status"] == "missing")
        assert all(r["document_id"] for r in mine if r["status"] == "confirmed")
    assert len({r["business_type"] for r in rows}) == len(cl.business_types)


def test_only_completed_steps_count_and_gap_open_since_step(svc: Services,
                                                            session: Session) -> None:
    cl = svc.checklist
    t = team(session, "YYB")
    accept_at, survey_at = T0 + hours(1), T0 + hours(30)
    b = business(session, t, "HV_NEW", steps={"accept": accept_at, "survey": survey_at})
    doc(session, b, "YDSQS")
    session.flush()
    rows = _report(svc, session, customer_no=None)
    want = cl.required_for("HV_NEW", {"accept", "survey"})
    assert [r["doc_type"] for r in rows] == want
    since = {r["doc_type"]: r["open_since"] for r in rows if r["status"] == "missing"}
    assert set(since) == set(cl.missing("HV_NEW", {"YDSQS"}, {"accept", "survey"}))
    assert since["KCD"].replace(tzinfo=None) == survey_at.replace(tzinfo=None)
    assert since["SFZM"].replace(tzinfo=None) == accept_at.replace(tzinfo=None)


def test_power_of_attorney_only_when_an_agent_applied(svc: Services, session: Session) -> None:
    t = team(session, "YYB")
    with_agent = business(session, t, "TRANSFER", agent=True)
    without = business(session, t, "TRANSFER")
    # The contract step is not done yet: SQWTS (accept) is required, GYDHT is not.
    agent_early = business(session, t, "LV_RES_NEW", agent=True, steps={"accept": T0})
    session.flush()
    rows = _report(svc, session)

    def types(bno: str) -> list[Any]:
        return [r["doc_type"] for r in rows if r["business_no"] == bno]

    assert "SQWTS" in types(with_agent.business_no)
    assert "SQWTS" not in types(without.business_no)
    assert types(agent_early.business_no) == svc.checklist.required_for(
        "LV_RES_NEW", {"accept"}, agent=True)
    assert "GYDHT" not in types(agent_early.business_no)


def test_unconfirmed_and_low_confidence_shown_apart(svc: Services, session: Session) -> None:
    t = team(session, "YYB")
    b = business(session, t, "SUSPEND")  # BGSQ, SFZM, KCD
    doc(session, b, "BGSQ", confirmed=False, confidence=0.9)
    doc(session, b, "SFZM", confirmed=False, confidence=0.3)
    session.flush()
    status = {r["doc_type"]: r["status"] for r in _report(svc, session)}
    assert status == {"BGSQ": "classified", "SFZM": "low_confidence", "KCD": "missing"}
    gaps_only = _report(svc, session, only_gaps=True)
    assert len(gaps_only) == 3


def test_correction_confirmed_closes_the_gap(svc: Services, session: Session) -> None:
    t = team(session, "YYB")
    b = business(session, t, "SUSPEND", customer_no="3300000042")
    doc(session, b, "BGSQ")
    doc(session, b, "KCD")
    wrong = doc(session, b, "YYZZ", confirmed=False, confidence=0.4)  # really an ID card
    session.flush()
    report = customer_report(session, svc.checklist, BELOW, "3300000042")
    assert report[0].missing == ["SFZM"]
    confirm_type(session, svc, wrong.id, "SFZM", actor="archivist", reason="身份证复印件")
    session.flush()
    report = customer_report(session, svc.checklist, BELOW, "3300000042")
    assert report[0].missing == []
    sfzm = next(r for r in report[0].rows if r["doc_type"] == "SFZM")
    assert (sfzm["status"], sfzm["document_id"]) == ("confirmed", wrong.id)


def test_filters_by_customer_and_team(svc: Services, session: Session) -> None:
    a, k = team(session, "YYB"), team(session, "DKH")
    b1 = business(session, a, "SUSPEND", customer_no="3300000001")
    b2 = business(session, k, "SUSPEND", customer_no="3300000002")
    session.flush()
    assert {r["business_no"] for r in _report(svc, session, customer_no="3300000001")} == {
        b1.business_no}
    assert {r["business_no"] for r in _report(svc, session, team="DKH")} == {b2.business_no}
    assert _report(svc, session, teams=("NONE",)) == []
    assert _report(svc, session, customer_no="nope") == []
