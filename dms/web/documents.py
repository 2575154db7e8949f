"""A scanned document: its pages beside their OCR text, the original and the searchable PDF."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request,
                   stream_with_context, url_for)
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dms.db.models import Business, Customer, Document, Page, Team
from dms.domain.roles import Role
from dms.errors import NotFoundError
from dms.services import ocr_flow
from dms.services.page_view import page_view_key
from dms.services.page_words import decode_words
from dms.services.searchable_pdf import SLIM_SUFFIX, fetch_searchable_pdf
from dms.web.auth import allowed_teams, current_user, login_required, services

bp = Blueprint("documents", __name__, url_prefix="/documents")

# Who may throw away a document's OCR results and read it again.
REPROCESS_ROLES = frozenset({Role.ARCHIVIST, Role.ADMIN})


def _may_reprocess() -> bool:
    user = current_user()
    return user is not None and Role(user.role) in REPROCESS_ROLES


def _load(s: Session, doc_id: int) -> Document:
    doc = s.scalar(select(Document).where(Document.id == doc_id).options(
        selectinload(Document.pages), selectinload(Document.customer),
        selectinload(Document.business)))
    if doc is None:
        abort(404, f"document {doc_id} not found")
    teams = allowed_teams()
    if teams is not None:
        team_id = (doc.business.team_id if doc.business else None) or doc.customer.team_id
        team = s.get(Team, team_id) if team_id else None
        if team is None or team.code not in teams:
            abort(403)
    return doc


@bp.route("/<int:doc_id>")
@login_required
def show(doc_id: int) -> Any:
    page_no = max(1, request.args.get("page", 1, type=int))
    with services().sessions() as s:
        doc = _load(s, doc_id)
        page = next((p for p in doc.pages if p.page_no == page_no), None)
        customer: Customer = doc.customer
        business: Business | None = doc.business
        return render_template("document.html", doc=doc, page=page, page_no=page_no,
                               customer=customer, business=business,
                               q=request.args.get("q", ""), can_reprocess=_may_reprocess())


@bp.route("/<int:doc_id>/reprocess", methods=["POST"])
@login_required
def reprocess(doc_id: int) -> Any:
    """Read the document again (after a tesseract or settings upgrade, or a failure)."""
    user = current_user()
    if user is None or not _may_reprocess():
        abort(403)
    with services().sessions() as s:
        _load(s, doc_id)
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
@login_required
def original(doc_id: int) -> Response:
    with services().sessions() as s:
        doc = _load(s, doc_id)
        return _stream(doc.original_key, doc.mime, doc.source_name.rsplit("/", 1)[-1])


@bp.route("/<int:doc_id>/searchable.pdf")
@login_required
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
@login_required
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
@login_required
def page_words(doc_id: int, page_no: int) -> Any:
    with services().sessions() as s:
        _load(s, doc_id)
        page = s.scalar(select(Page).where(Page.document_id == doc_id, Page.page_no == page_no))
        if page is None or not page.words_key:
            abort(404)
        return decode_words(services().store.get_bytes(page.words_key))
