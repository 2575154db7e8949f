"""A scanned document: its pages beside their OCR text, the original and the searchable PDF."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request,
                   stream_with_context, url_for)
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dms.db.models import Business, Customer, Document, Page
from dms.domain.access import Action
from dms.domain.facts import FIELD_NAMES_ZH
from dms.domain.reminders import end_date_unknown
from dms.errors import NotFoundError
from dms.services import access, ocr_flow
from dms.services.missing_facts import missing_facts_of
from dms.services.page_view import page_view_key
from dms.services.page_words import decode_words
from dms.services.searchable_pdf import SLIM_SUFFIX, fetch_searchable_pdf
from dms.web.access import current_user, pii, principal, requires, services
from dms.web.params import page_arg

bp = Blueprint("documents", __name__, url_prefix="/documents")
# ``{{ text|pii }}``: personal data masked for those the policy does not show it to.
bp.add_app_template_filter(pii, "pii")


def _may_reprocess() -> bool:
    return current_user() is not None and access.scope_of(
        principal(), Action.DOCUMENT_REPROCESS) is not access.Scope.NONE


def _load(s: Session, doc_id: int, action: Action = Action.DOCUMENT_READ) -> Document:
    doc = s.scalar(select(Document).where(Document.id == doc_id).options(
        selectinload(Document.pages), selectinload(Document.customer),
        selectinload(Document.business)))
    if doc is None:
        abort(404, f"document {doc_id} not found")
    access.check_document(principal(), action, doc)
    return doc


@bp.route("/<int:doc_id>")
@requires(Action.DOCUMENT_READ)
def show(doc_id: int) -> Any:
    page_no = page_arg()
    with services().sessions() as s:
        doc = _load(s, doc_id)
        page = next((p for p in doc.pages if p.page_no == page_no), None)
        customer: Customer = doc.customer
        business: Business | None = doc.business
        checklist = services().checklist
        return render_template("document.html", doc=doc, page=page, page_no=page_no,
                               customer=customer, business=business,
                               q=request.args.get("q", ""), can_reprocess=_may_reprocess(),
                               missing_facts=missing_facts_of(checklist, doc),
                               field_names=FIELD_NAMES_ZH,
                               end_date_unknown=end_date_unknown(checklist, doc.doc_type,
                                                                 doc.facts))


@bp.route("/<int:doc_id>/reprocess", methods=["POST"])
@requires(Action.DOCUMENT_REPROCESS)
def reprocess(doc_id: int) -> Any:
    """Read the document again (after a tesseract or settings upgrade, or a failure)."""
    user = current_user()
    assert user is not None  # behind requires
    with services().sessions() as s:
        _load(s, doc_id, Action.DOCUMENT_REPROCESS)
    ocr_flow.reprocess(services(), current_app.extensions["dms_dispatcher"], [doc_id],
                       actor=user.username)
    return redirect(url_for("documents.show", doc_id=doc_id))


def _stream(key: str, mimetype: str, filename: str | None = None) -> Response:
    store = services().store
    fh = store.open_read(key)

    def gen() -> Any:
        with fh:
            while chunk := fh.read(256 * 1024):
                yield chunk

    headers = {"Cache-Control": "private, max-age=3600"}
    if filename:
        from urllib.parse import quote

        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return Response(stream_with_context(gen()), mimetype=mimetype, headers=headers)


@bp.route("/<int:doc_id>/original")
@requires(Action.DOCUMENT_READ)
def original(doc_id: int) -> Response:
    with services().sessions() as s:
        doc = _load(s, doc_id)
        return _stream(doc.original_key, doc.mime, doc.source_name.rsplit("/", 1)[-1])


@bp.route("/<int:doc_id>/searchable.pdf")
@requires(Action.DOCUMENT_READ)
def searchable(doc_id: int) -> Response:
    with services().sessions() as s:
        doc = _load(s, doc_id)
        if not doc.searchable_pdf_key:
            abort(404, "the searchable PDF is not ready yet")
        if not doc.searchable_pdf_key.endswith(SLIM_SUFFIX):
            return _stream(doc.searchable_pdf_key, "application/pdf", f"{doc.id}-ocr.pdf")
        # Stored without the scan images the original holds: put back for this download.
        with tempfile.TemporaryDirectory(prefix="dms-searchable-") as tmp:
            pdf = fetch_searchable_pdf(services(), searchable_pdf_key=doc.searchable_pdf_key,
                                       original_key=doc.original_key, work_dir=Path(tmp))
            data = pdf.read_bytes()
        return Response(data, mimetype="application/pdf", headers={
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": f"inline; filename*=UTF-8''{doc.id}-ocr.pdf"})


@bp.route("/<int:doc_id>/pages/<int:page_no>.png")
@requires(Action.DOCUMENT_READ)
def page_image(doc_id: int, page_no: int) -> Response:
    with services().sessions() as s:
        doc = _load(s, doc_id)
        page = s.scalar(select(Page).where(Page.document_id == doc_id, Page.page_no == page_no))
        if page is None:
            abort(404)
        try:
            key, mime = page_view_key(services(), sha256=doc.sha256, page_no=page_no,
                                      image_key=page.image_key,
                                      searchable_pdf_key=doc.searchable_pdf_key,
                                      original_key=doc.original_key)
        except NotFoundError:
            abort(404, "the page image is not ready yet")
        return _stream(key, mime)


@bp.route("/<int:doc_id>/pages/<int:page_no>/words.json")
@requires(Action.DOCUMENT_READ)
def page_words(doc_id: int, page_no: int) -> Any:
    with services().sessions() as s:
        _load(s, doc_id)
        page = s.scalar(select(Page).where(Page.document_id == doc_id, Page.page_no == page_no))
        if page is None or not page.words_key:
            abort(404)
        return pii(decode_words(services().store.get_bytes(page.words_key)))
