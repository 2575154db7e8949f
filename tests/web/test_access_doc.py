"""docs/ACCESS.md shows the policy table of the code, and the table covers every action."""
from __future__ import annotations

from pathlib import Path

from dms.domain.access import POLICY, Action, Scope, Subject, policy_markdown, scope

DOC = Path(__file__).resolve().parents[2] / "docs" / "ACCESS.md"


def test_the_doc_shows_the_table_of_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN POLICY TABLE", 1)[1].split("-->", 1)[1]
    block = block.split("<!-- END POLICY TABLE -->", 1)[0]
    assert block.strip() == policy_markdown().strip()


def test_every_action_has_a_scope_for_every_subject() -> None:
    assert set(POLICY) == set(Action)
    assert all(set(row) == set(Subject) for row in POLICY.values())


def test_least_privilege_rows() -> None:
    # The station and the marketing system do their one job, nothing else.
    assert {a for a in Action if scope(Subject.STATION, a) is not Scope.NONE} == {
        Action.PUBLIC, Action.HOME, Action.BATCH_UPLOAD, Action.BATCH_READ}
    assert {a for a in Action if scope(Subject.SYSTEM, a) is not Scope.NONE} == {
        Action.PUBLIC, Action.EVENT_POST}
    # Managers: reports, not the scans or the text; an original only through a loan.
    assert scope("manager", Action.REPORT_READ) is Scope.ALL
    assert scope("manager", Action.DOCUMENT_READ) is Scope.NONE
    assert scope("manager", Action.LOAN_REQUEST) is Scope.ALL
    assert scope("unknown-role", Action.HOME) is Scope.NONE
