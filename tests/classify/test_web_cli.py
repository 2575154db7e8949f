"""The review queue and the facts panel in the browser (Flask test client); the CLI."""
from __future__ import annotations

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.models import AuditEvent
from dms.db.session import session_scope
from dms.services import classification as cls
from dms.services.users import create_user
from dms.web import create_app
from tests.classify.conftest import Env, ocr_fixtures

PASSWORD = "review-pw-123"


class NoQueue:
    """The web app needs a dispatcher; these tests queue nothing."""

    def ocr_document(self, document_id: int) -> None: ...

    def ocr_page(self, page_id: int) -> None: ...

    def finalize_document(self, document_id: int) -> None: ...


def _client(env: Env, role: str = "archivist") -> FlaskClient:
    with session_scope(env.services.sessions) as s:
        create_user(s, role, PASSWORD, role, display_name="王档案")
    app = create_app(env.settings, dispatcher=NoQueue(), services=env.services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def _classified(env: Env, pages: list[str], name: str) -> int:
    doc_id = env.add_document(pages, name=name)
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
    return doc_id


def test_review_queue_bulk_confirm(env: Env) -> None:
    a = _classified(env, ["会议纪要 议题 年度工作计划"], "a.pdf")
    b = _classified(env, ["村委会证明 兹证明 宅基地 房屋 系其本人所有"], "b.pdf")
    ok = _classified(env, ocr_fixtures()["YYZZ"]["pages"], "c.pdf")
    client = _client(env)
    page = client.get("/review").get_data(as_text=True)
    assert f'id="review-{a}"' in page and f'id="review-{b}"' in page
    assert f'id="review-{ok}"' not in page
    assert "仅规则分类" in page  # the classifier status is shown
    r = client.post("/review/confirm", data={"doc_id": [str(a), str(b)], "bulk_type": "CQZM"})
    assert r.status_code == 302
    with env.services.sessions() as s:
        assert env.doc(s, a).doc_type == env.doc(s, b).doc_type == "CQZM"
        assert env.doc(s, a).type_confirmed
    assert 'id="review-empty"' in client.get("/review").get_data(as_text=True)


def test_document_page_shows_and_edits_facts(env: Env) -> None:
    fx = ocr_fixtures()["GYDHT"]
    doc_id = _classified(env, fx["pages"], "contract.pdf")
    client = _client(env)
    html = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert 'id="facts-panel"' in html and fx["fields"]["contract_no"] in html
    form = {"contract_end": "2030-12-31", "contract_no": fx["fields"]["contract_no"]}
    r = client.post(f"/documents/{doc_id}/facts", data=form)
    assert r.status_code == 302
    with env.services.sessions() as s:
        assert env.doc(s, doc_id).facts["contract_end"] == "2030-12-31"
        edits = s.scalars(select(AuditEvent).where(AuditEvent.action == "fact_edited")).all()
        assert [e.data["field"] for e in edits] == ["contract_end"]  # unchanged ones: no edit
        assert edits[0].actor == "archivist"
    r = client.post(f"/documents/{doc_id}/type", data={"doc_type": "DDXY"})
    with env.services.sessions() as s:
        assert env.doc(s, doc_id).doc_type == "DDXY"


def test_dispute_role_neither_sees_nor_decides_the_review_queue(env: Env) -> None:
    """Type review is for those who scan, review and keep the paper (docs/ACCESS.md)."""
    doc_id = _classified(env, ["会议纪要"], "a.pdf")
    client = _client(env, role="dispute")
    assert client.get("/review").status_code == 403
    assert client.post("/review/confirm", data={"doc_id": str(doc_id),
                                                "bulk_type": "JFPZ"}).status_code == 403


def test_cli_classify_document_retrain_and_evaluate(env: Env) -> None:
    from dms.cli import cli

    ids = {code: _classified(env, fx["pages"], f"{code}.pdf")
           for code, fx in ocr_fixtures().items()
           if code in ("YDSQS", "BGSQ", "SFZM", "YYZZ", "GYDHT", "ZBJD")}
    with session_scope(env.services.sessions) as s:
        for code, doc_id in ids.items():
            cls.confirm_type(s, env.services, doc_id, code, actor="archivist")
    runner = CliRunner(env={"DMS_DATA_DIR": str(env.settings.data_dir), "DMS_SECRET_KEY": "t" * 32,
                            "DMS_CLASSIFY_MIN_TRAINING_DOCS": "4"})
    r = runner.invoke(cli, ["classify", "--document", str(ids["YDSQS"])])
    assert r.exit_code == 0, r.output
    assert f"document {ids['YDSQS']}: YDSQS" in r.output
    r = runner.invoke(cli, ["classify", "--retrain"])
    assert r.exit_code == 0 and "model v1 trained on 6 documents" in r.output, r.output
    r = runner.invoke(cli, ["classify", "--evaluate", "--folds", "2"])
    assert r.exit_code == 0 and "rules only: accuracy 100.0%" in r.output, r.output
    assert "learned model (2-fold cross-validated)" in r.output

