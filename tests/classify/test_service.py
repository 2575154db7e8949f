"""Classification in the database: types and facts with provenance, the review queue,
human corrections, retraining that changes a prediction, a corrupt model file."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dms.classify.registry import active_row, load_active
from dms.classify.training import retrain, retrain_due
from dms.db.models import AuditEvent, Document
from dms.db.models_classify import DocumentFact, TypeDecision
from dms.db.session import session_scope
from dms.errors import InvalidInputError
from dms.services import classification as cls
from dms.settings import Settings
from tests.classify.conftest import Env, make_env, ocr_fixtures, to_traditional


def test_contract_gets_type_and_facts_with_page_and_box(env: Env) -> None:
    fx = ocr_fixtures()["GYDHT"]
    doc_id = env.add_document(fx["pages"], customer_no=fx["customer_no"],
                              words={1: fx["words_page1"]})
    with session_scope(env.services.sessions) as s:
        pred = cls.classify_document(s, env.services, doc_id)
        assert pred is not None and pred.method == "rules"
    with env.services.sessions() as s:
        doc = env.doc(s, doc_id)
        assert (doc.doc_type, doc.type_confirmed) == ("GYDHT", False)
        assert doc.type_confidence is not None and doc.type_confidence >= 0.9
        assert doc.facts["contract_end"] == fx["fields"]["contract_end"]
        assert doc.facts["contract_no"] == fx["fields"]["contract_no"]
        rows = {f.field: f for f in cls.facts_of(s, doc_id)}
        assert rows["contract_no"].page_no == 1 and rows["contract_no"].bbox is not None
        assert rows["contract_end"].page_no == 2 and rows["contract_end"].bbox is None  # no words
        decision = s.scalar(select(TypeDecision).where(TypeDecision.document_id == doc_id))
        assert decision is not None and decision.source == "auto" and decision.runners_up
        assert not s.scalars(cls.review_query(env.settings, None)).all()


def test_unknown_document_lands_in_review_without_a_type(env: Env) -> None:
    doc_id = env.add_document(["增值税专用发票\n购买方 名称 某公司\n价税合计 壹仟元整"])
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
    with env.services.sessions() as s:
        assert env.doc(s, doc_id).doc_type is None
        assert [d.id for d in s.scalars(cls.review_query(env.settings, None))] == [doc_id]


def test_other_customers_number_is_flagged_not_accepted(env: Env) -> None:
    fx = ocr_fixtures()["ZBJD"]
    doc_id = env.add_document(fx["pages"], customer_no="9999999999")  # filed in another folder
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
    with env.services.sessions() as s:
        doc = env.doc(s, doc_id)
        assert doc.doc_type == "ZBJD"
        assert "customer_no" not in doc.facts  # not silently accepted (nor indexed)
        row = s.scalar(select(DocumentFact).where(DocumentFact.document_id == doc_id,
                                                  DocumentFact.field == "customer_no"))
        assert row is not None and row.flag == cls.FLAG_MISMATCH and row.value == "3392966508"
        assert [d.id for d in s.scalars(cls.review_query(env.settings, None))] == [doc_id]


def test_review_queue_on_both_databases(env_any_db: Env) -> None:
    env = env_any_db
    sure = env.add_document(ocr_fixtures()["YYZZ"]["pages"], name="a.pdf")
    unsure = env.add_document(["会议纪要 议题 年度工作计划"], name="b.pdf")
    with session_scope(env.services.sessions) as s:
        for d in (sure, unsure):
            cls.classify_document(s, env.services, d)
    with env.services.sessions() as s:
        assert [d.id for d in s.scalars(cls.review_query(env.settings, None))] == [unsure]
        assert cls.review_count(s, env.settings, None) == 1
        assert cls.review_count(s, env.settings, ["NOPE"]) == 0  # a team sees its own only
    with session_scope(env.services.sessions) as s:
        assert cls.confirm_type(s, env.services, unsure, "JFPZ", actor="collector") is True
    with env.services.sessions() as s:
        assert cls.review_count(s, env.settings, None) == 0


def test_confirmed_type_survives_reclassification_and_is_audited(env: Env) -> None:
    doc_id = env.add_document(ocr_fixtures()["KCD"]["pages"])
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
        cls.confirm_type(s, env.services, doc_id, "GDFA", actor="archivist", reason="方案单")
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)  # OCR ran again
    with env.services.sessions() as s:
        doc = env.doc(s, doc_id)
        assert (doc.doc_type, doc.type_confirmed) == ("GDFA", True)
        human = s.scalar(select(TypeDecision).where(TypeDecision.source == "human"))
        assert human is not None and (human.previous_type, human.doc_type) == ("KCD", "GDFA")
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "type_corrected"))
        assert ev is not None and ev.actor == "archivist" and ev.to_state == "GDFA"
    with session_scope(env.services.sessions) as s, pytest.raises(InvalidInputError):
        cls.confirm_type(s, env.services, doc_id, "NOSUCH", actor="archivist")


def test_fact_edits_are_validated_audited_and_kept_over_ocr(env: Env) -> None:
    fx = ocr_fixtures()["SFZM"]
    doc_id = env.add_document(fx["pages"])
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
        with pytest.raises(InvalidInputError, match="GB 11643"):
            cls.set_fact(s, doc_id, "id_number", "110105194912310021", actor="handler")
        cls.set_fact(s, doc_id, "name", "赵艳", actor="handler")
    with session_scope(env.services.sessions) as s:
        cls.classify_document(s, env.services, doc_id)
    with env.services.sessions() as s:
        doc = env.doc(s, doc_id)
        assert doc.facts["name"] == "赵艳" and doc.facts["id_number"] == fx["fields"]["id_number"]
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "fact_edited"))
        assert ev is not None and ev.data == {"field": "name", "from": "", "to": "赵艳"}


# A village committee's certificate of house ownership: proof of property rights (CQZM)
# in a wording the rules do not know (they read 兹证明/特此证明 as a bill certificate).
def _village_certificate(i: int) -> str:
    names = ["张德明", "李秀兰", "王建华", "刘志强", "陈春梅", "杨立新", "赵国庆"]
    return (f"青龙村村民委员会\n证明\n兹证明本村村民{names[i]}在本村第{i + 3}组有宅基地"
            f"一处，建有房屋{i + 2}间，系其本人所有，无权属纠纷。\n特此证明。\n"
            f"村委会（盖章）\n2023年{i + 1}月8日")


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    from dms.settings import load_settings

    return load_settings(data_dir=tmp_path / "var", secret_key="test" * 32, _env_file=None,
                         classify_min_training_docs=20, classify_retrain_after=3)


def test_correction_then_retraining_changes_the_prediction(small_settings: Settings) -> None:
    env = next(make_env(small_settings))
    svc = env.services
    for code, fx in ocr_fixtures().items():  # the archive's confirmed documents
        for n, pages in enumerate((fx["pages"], [to_traditional(p) for p in fx["pages"]])):
            d = env.add_document(pages, name=f"{code}-{n}.pdf")
            with session_scope(svc.sessions) as s:
                cls.confirm_type(s, svc, d, code, actor="archivist")
    probe = env.add_document([_village_certificate(6)], name="probe.pdf")
    with session_scope(svc.sessions) as s:
        before = cls.classify_document(s, svc, probe)
    assert before is not None and before.doc_type != "CQZM"
    with env.services.sessions() as s:
        assert retrain_due(s, svc)
    assert retrain(svc) is not None  # v1: no village certificates yet
    for i in range(5):  # people correct what the classifier got wrong
        d = env.add_document([_village_certificate(i)], name=f"village-{i}.pdf")
        with session_scope(svc.sessions) as s:
            pred = cls.classify_document(s, svc, d)
            assert pred is not None and pred.doc_type != "CQZM"
            cls.confirm_type(s, svc, d, "CQZM", actor="collector", reason="村委会证明")
    with env.services.sessions() as s:
        assert retrain_due(s, svc)
    row = retrain(svc)
    assert row is not None and row.version == 2 and "CQZM" in row.classes
    with session_scope(svc.sessions) as s:
        after = cls.classify_document(s, svc, probe)
    assert after is not None and after.doc_type == "CQZM", after
    assert after.method == "rules+model v2"
    with env.services.sessions() as s:
        assert not retrain_due(s, svc)
    svc.close()


def test_corrupt_model_file_falls_back_to_rules_and_says_so(
        small_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    env = next(make_env(small_settings))
    svc = env.services
    for code, fx in ocr_fixtures().items():
        for n, pages in enumerate((fx["pages"], [to_traditional(p) for p in fx["pages"]])):
            d = env.add_document(pages, name=f"{code}-{n}.pdf")
            with session_scope(svc.sessions) as s:
                cls.confirm_type(s, svc, d, code, actor="archivist")
    row = retrain(svc, force=True)
    assert row is not None
    from dms.classify.registry import forget_cache

    forget_cache()  # a fresh worker process
    data = svc.store.get_bytes(row.key)
    svc.store.put_bytes(row.key, data[: len(data) // 3])  # a disk or an upload went wrong
    doc_id = env.add_document(ocr_fixtures()["JGJY"]["pages"], name="new.pdf")
    with session_scope(svc.sessions) as s:
        pred = cls.classify_document(s, svc, doc_id)
        _, status = load_active(s, svc.store)
    assert pred is not None and pred.doc_type == "JGJY"  # the rules still work
    assert pred.method == "rules (model unusable)"
    assert status.degraded and "回退到规则" in status.message and "v1" in status.message
    assert any("falling back to rules" in r.message for r in caplog.records)
    with env.services.sessions() as s:
        decision = s.scalar(select(TypeDecision).where(TypeDecision.document_id == doc_id))
        assert decision is not None and decision.method == "rules (model unusable)"
        assert active_row(s) is not None
    svc.close()


def test_classification_failure_never_fails_the_ocr_flow(env: Env) -> None:
    doc_id = env.add_document(ocr_fixtures()["JFPZ"]["pages"])
    bad = env.settings.model_copy(update={"config_dir": env.settings.data_dir / "nowhere"})
    env.services.settings = bad
    with session_scope(env.services.sessions) as s:
        cls.classify_after_ocr(s, env.services, doc_id)  # rules missing: logged, no raise
    with env.services.sessions() as s:
        assert s.get(Document, doc_id) is not None
        assert env.doc(s, doc_id).doc_type is None
