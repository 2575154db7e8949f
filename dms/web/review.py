"""The type review queue (confirm or correct, one by one or in bulk) and the facts panel
of the document page (shown and editable; every edit audited)."""
from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, \
    url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dms.classify.registry import ModelStatus, load_active
from dms.db.models import Document, Page
from dms.db.session import after_commit, session_scope
from dms.domain.access import Action
from dms.domain.facts import FIELD_NAMES_ZH, FIELDS
from dms.errors import DmsError
from dms.services import access
from dms.services import classification as cls
from dms.services.container import Services
from dms.web.access import allowed_teams, current_user, pii, principal, requires, services
from dms.web.i18n import error_flash, translate
from dms.web.params import local_target, page_arg
from dms.web.page_review import reason_labels

bp = Blueprint("review", __name__)
PAGE_SIZE = 50

FLAG_NAMES = {cls.FLAG_MISMATCH: "与档案户号不符", cls.FLAG_CHECKSUM: "校验失败"}


def _pages_to_review(s: Session, doc_id: int) -> list[Page]:
    """The document's pages the OCR flagged (their reasons are shown on the row)."""
    return list(s.scalars(select(Page).where(
        Page.document_id == doc_id, Page.needs_review.is_(True)).order_by(Page.page_no)))


def _actor() -> str:
    user = current_user()
    assert user is not None  # behind requires(Action.DOCUMENT_CLASSIFY)
    return user.username


def _may_see(s: Session, doc: Document) -> bool:
    return access.may(principal(), Action.DOCUMENT_CLASSIFY, access.document_team_id(doc))


def _status(svc: Services) -> ModelStatus:
    with svc.sessions() as s:
        return load_active(s, svc.store)[1]


def status_message(status: ModelStatus) -> str:
    """The classifier's status line in the user's language (``ModelStatus.message`` is the
    Chinese one of the CLI and the log)."""
    if status.mode == "rules+model":
        return translate("规则 + 学习模型 v%(version)s", version=status.version)
    if status.degraded:
        return translate("学习模型 v%(version)s 文件损坏或无法读取，已回退到规则分类：%(reason)s",
                         version=status.version, reason=status.reason)
    return translate("仅规则分类：已确认的文档还不够训练模型")


@bp.route("/review")
@requires(Action.DOCUMENT_CLASSIFY)
def queue() -> Any:
    svc = services()
    page = page_arg()
    teams = allowed_teams(Action.DOCUMENT_CLASSIFY)
    with svc.sessions() as s:
        q = cls.review_query(svc.settings, teams).options(
            selectinload(Document.customer), selectinload(Document.business))
        docs = s.scalars(q.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        total = cls.review_count(s, svc.settings, teams)
        rows = [{"doc": d, "decision": cls.last_auto_decision(s, d.id),
                 "flags": [f for f in cls.facts_of(s, d.id) if f.flag],
                 "pages": _pages_to_review(s, d.id)} for d in docs]
        return render_template("review.html", rows=rows, total=total, page=page,
                               pages=max(1, -(-total // PAGE_SIZE)), status=_status(svc),
                               threshold=svc.settings.classify_review_below,
                               flag_names=FLAG_NAMES, field_names=FIELD_NAMES_ZH)


@bp.route("/review/confirm", methods=["POST"])
@requires(Action.DOCUMENT_CLASSIFY)
def confirm() -> Any:
    """Confirm or correct the checked documents: each to the type chosen on its row, or
    all to ``bulk_type`` when one is chosen."""
    name = _actor()
    ids = [int(i) for i in request.form.getlist("doc_id") if i.isdigit()]
    bulk = request.form.get("bulk_type", "")
    decisions = {i: bulk or request.form.get(f"type_{i}", "") for i in ids}
    done = _decide(decisions, name, request.form.get("reason", ""))
    flash(translate("已确认 %(n)d 份文档", n=done), "ok")
    return redirect(local_target(request.form.get("next"), url_for("review.queue")))


@bp.route("/documents/<int:doc_id>/type", methods=["POST"])
@requires(Action.DOCUMENT_CLASSIFY)
def confirm_one(doc_id: int) -> Any:
    name = _actor()
    with services().sessions() as s:
        doc = s.get(Document, doc_id)
        if doc is None:
            abort(404)
        if not _may_see(s, doc):
            abort(403)
    _decide({doc_id: request.form.get("doc_type", "")}, name, request.form.get("reason", ""))
    return redirect(url_for("documents.show", doc_id=doc_id))


def _decide(decisions: dict[int, str], actor: str, reason: str) -> int:
    svc = services()
    done = 0
    try:
        with session_scope(svc.sessions) as s:
            for doc_id, doc_type in decisions.items():
                doc = s.get(Document, doc_id)
                if doc is None or not doc_type or not _may_see(s, doc):
                    continue
                cls.confirm_type(s, svc, doc_id, doc_type, actor=actor, reason=reason)
                after_commit(s, partial(_reindex, svc, doc_id))
                done += 1
            _retrain_if_due(s, svc)
    except DmsError as exc:
        flash(error_flash(exc), "error")
        return 0
    return done


@bp.route("/documents/<int:doc_id>/facts", methods=["POST"])
@requires(Action.DOCUMENT_CLASSIFY)
def edit_facts(doc_id: int) -> Any:
    name = _actor()
    svc = services()
    try:
        with session_scope(svc.sessions) as s:
            doc = s.get(Document, doc_id)
            if doc is None:
                abort(404)
            if not _may_see(s, doc):
                abort(403)
            current = {f.field: f.value for f in cls.facts_of(s, doc_id)}
            for field in FIELDS:
                value = request.form.get(field)
                if value is None or value.strip() in (current.get(field, ""),
                                                      pii(current.get(field, ""))):
                    continue  # unchanged, or sent back as the masked form it was shown in
                cls.set_fact(s, doc_id, field, value, actor=name)
            after_commit(s, partial(_reindex, svc, doc_id))
    except DmsError as exc:
        flash(error_flash(exc), "error")
    return redirect(url_for("documents.show", doc_id=doc_id))


def _reindex(svc: Services, doc_id: int) -> None:
    from dms.services.indexing import index_document

    with session_scope(svc.sessions) as s:
        index_document(s, svc.index, doc_id)


def _retrain_if_due(s: Session, svc: Services) -> None:
    """Enough new decisions: ask a worker to retrain (the hourly beat job catches up if
    this deployment's dispatcher cannot send tasks)."""
    from dms.classify.training import retrain_due

    celery = getattr(current_app.extensions.get("dms_dispatcher"), "app", None)
    if celery is not None and retrain_due(s, svc):
        after_commit(s, partial(celery.send_task, "dms.retrain_classifier"))


@bp.app_context_processor
def _panel() -> dict[str, Any]:
    """``classification_panel(doc_id)`` for the document page's facts include."""
    def classification_panel(doc_id: int) -> dict[str, Any]:
        svc = services()
        with svc.sessions() as s:
            return {"facts": {f.field: f for f in cls.facts_of(s, doc_id)},
                    "decision": cls.last_auto_decision(s, doc_id), "fields": FIELDS,
                    "field_names": FIELD_NAMES_ZH, "flag_names": FLAG_NAMES,
                    "status": _status(svc)}
    return {"classification_panel": classification_panel, "status_message": status_message}


@bp.app_context_processor
def _reasons() -> dict[str, Any]:
    """``review_reasons(page)``: why the OCR flagged a page, in words (page_review.py)."""
    def review_reasons(page: Any) -> list[str]:
        return reason_labels(getattr(page, "review_reason", "") or "", translate)
    return {"review_reasons": review_reasons}
