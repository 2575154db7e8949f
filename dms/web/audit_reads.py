"""Every read of personal data over the web leaves an audit entry (issue 17).

One table (``READS``) says which endpoints read whose data; one after-request hook
(installed by the admin audit blueprint) records them, so the views stay as they are. A
read is recorded when it was answered (2xx/3xx) or refused (403, marked ``denied``) for a
logged-in user or a token holder; a redirect to the login page is not a read. If the entry
cannot be written the answer is withheld (503): an unaudited read must not happen.

The address is the request's remote address: dms has no trusted-proxy setting, so a
``X-Forwarded-For`` header is not believed.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from dms.db.models import Box, Customer, Document, Volume
from dms.domain.audit import ReadAction as A
from dms.domain.locations import ScanKind, classify_scan
from dms.domain.personal_data import mask_text
from dms.services.audit_log import add_read, audit_session
from dms.web.auth import current_user, services
from search.base import FILTER_FIELDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    action: str
    entity: str
    entity_id: str
    customer_no: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Describe = Callable[[Session, Mapping[str, Any], MultiDict[str, str]], Read | None]


def _customer_of(s: Session, doc_id: int) -> str:
    return s.scalar(select(Customer.customer_no).join(Document, Document.customer_id == Customer.id)
                    .where(Document.id == doc_id)) or ""


def _document(action: str, entity: str = "document") -> Describe:
    def describe(s: Session, view: Mapping[str, Any], _args: MultiDict[str, str]) -> Read:
        doc_id = int(view["doc_id"])
        page = view.get("page_no")
        return Read(action, entity, f"{doc_id}/{page}" if page else str(doc_id),
                    _customer_of(s, doc_id), {"page": page} if page else {})
    return describe


def _search(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read | None:
    """The query as typed, with ID, bank-card and phone numbers masked."""
    data: dict[str, Any] = {k: mask_text(args.get(k, "").strip())
                            for k in ("q", "from", "to") if args.get(k, "").strip()}
    filters = {f: [mask_text(v) for v in args.getlist(f) if v.strip()]
               for f in FILTER_FIELDS}
    filters = {f: vs for f, vs in filters.items() if vs}
    if not data and not filters:
        return None  # the empty search form
    if filters:
        data["filters"] = filters
    if args.get("page", "1") != "1":
        data["page"] = args.get("page", "")
    return Read(A.SEARCH, "search", "", "", data)


def _customer(_s: Session, view: Mapping[str, Any], _args: MultiDict[str, str]) -> Read:
    return Read(A.CUSTOMER_VIEW, "customer", view["customer_no"], view["customer_no"])


def _gap_report(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read:
    fmt = args.get("format", "html")
    data = {k: args[k] for k in ("team", "business_type", "only_gaps") if args.get(k)}
    return Read(A.REPORT_VIEW if fmt == "html" else A.REPORT_EXPORT, "gap_report", fmt,
                args.get("customer", "").strip(), data)


def _missing_facts_export(_s: Session, _view: Mapping[str, Any],
                          args: MultiDict[str, str]) -> Read:
    """The gap report's documents lacking required facts, downloaded (as ``_gap_report``)."""
    data = {k: args[k] for k in ("team", "business_type") if args.get(k)}
    return Read(A.REPORT_EXPORT, "missing_facts", "csv", args.get("customer", "").strip(),
                data)


def _customers_of_volumes(s: Session, kind: str, codes: list[str]) -> list[str]:
    """Whose paper the labels name: the customers of the volumes (in the boxes)."""
    stmt = select(Customer.customer_no).join(Volume, Volume.customer_id == Customer.id)
    if kind == "boxes":
        stmt = stmt.join(Box, Volume.box_id == Box.id).where(Box.code.in_(codes))
    else:
        stmt = stmt.where(Volume.volume_no.in_(codes))
    return sorted(set(s.scalars(stmt)))


def _labels(s: Session, view: Mapping[str, Any], args: MultiDict[str, str]) -> Read:
    codes = [c for c in args.get("codes", "").replace(" ", ",").split(",") if c][:500]
    customers = _customers_of_volumes(s, str(view["kind"]), codes)
    return Read(A.LABEL_PRINT, str(view["kind"]), ",".join(codes)[:64],
                customers[0] if len(customers) == 1 else "",
                {"codes": codes, **({"customers": customers} if customers else {})})


def _volume(s: Session, view: Mapping[str, Any], _args: MultiDict[str, str]) -> Read:
    volume_no = str(view["volume_no"])
    customers = _customers_of_volumes(s, "volumes", [volume_no])
    return Read(A.VOLUME_VIEW, "volume", volume_no, customers[0] if customers else "")


def _customer_list(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read:
    q = args.get("q", "").strip()
    data = {"page": args["page"]} if args.get("page", "1") != "1" else {}
    if q:
        return Read(A.SEARCH, "customers", "", "", {"q": mask_text(q), **data})
    return Read(A.CUSTOMER_LIST, "customers", "", "", data)


def _dispute(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read | None:
    q, customer_no = args.get("q", "").strip(), args.get("customer", "").strip()
    if not q and not customer_no:
        return None  # the empty look-up form
    return Read(A.DISPUTE_LOOKUP, "customer", customer_no, customer_no,
                {"q": mask_text(q)} if q else {})


def _locate(s: Session, view: Mapping[str, Any], _args: MultiDict[str, str]) -> Read:
    """A volume or box code: where it is and whose it is (a box holds several customers')."""
    code = str(view["code"]).strip().upper()
    kind = classify_scan(code)
    if kind not in (ScanKind.VOLUME, ScanKind.BOX):
        return Read(A.PHYSICAL_LOCATE, kind.value, code)  # a slot: no customer's paper named
    customers = _customers_of_volumes(s, "boxes" if kind is ScanKind.BOX else "volumes", [code])
    return Read(A.PHYSICAL_LOCATE, kind.value, code,
                customers[0] if len(customers) == 1 else "",
                {"customers": customers} if len(customers) > 1 else {})


def _review_queue(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read:
    # The queue lists customers' names and extracted facts (ID and phone numbers among them).
    return Read(A.REVIEW_QUEUE_VIEW, "review_queue", "", "",
                {"page": args["page"]} if args.get("page", "1") != "1" else {})


def _audit_log(action: str) -> Describe:
    def describe(_s: Session, _view: Mapping[str, Any], args: MultiDict[str, str]) -> Read:
        data = {k: mask_text(v) for k, v in args.items()
                if k in ("user", "action", "from", "to", "page") and v}
        return Read(action, "audit_log", "", args.get("customer", "").strip(), data)
    return describe


READS: dict[str, Describe] = {
    "documents.show": _document(A.DOCUMENT_VIEW),
    "documents.original": _document(A.ORIGINAL_DOWNLOAD),
    "documents.searchable": _document(A.SEARCHABLE_PDF_VIEW),
    "documents.page_image": _document(A.PAGE_IMAGE_VIEW, "page"),
    "documents.page_words": _document(A.PAGE_TEXT_VIEW, "page"),
    "search.page": _search,
    "search.api": _search,
    "search.similar": _document(A.SIMILAR_SEARCH),
    "home.customer": _customer,
    "home.customers": _customer_list,
    "physical.volume_page": _volume,
    "reports.gaps": _gap_report,
    "reports.missing_facts_download": _missing_facts_export,
    "physical.label_pdf": _labels,
    "physical.dispute_view": _dispute,
    "physical.api_locate": _locate,
    "physical.box_page": _locate,
    "review.queue": _review_queue,
    "audit.page": _audit_log(A.AUDIT_VIEW),
    "audit.export": _audit_log(A.AUDIT_EXPORT),
}


def _who() -> str | None:
    user = current_user()
    if user is not None:
        return user.username
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer ") and auth[7:].strip():
        # Never the token itself: a short fingerprint tells tokens apart.
        return "token:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:12]
    return None


def record_reads(response: Response) -> Response:
    """The after-request hook: record the read this request made, if it made one."""
    describe = READS.get(request.endpoint or "")
    status = response.status_code
    if describe is None or not (200 <= status < 400 or status == 403):
        return response
    actor = _who()
    if actor is None:
        return response
    try:
        # One short transaction: whose data it was, then the entry.
        with audit_session(services().sessions) as s:
            read = describe(s, request.view_args or {}, request.args)
            if read is None:
                return response
            data = {**read.data, "denied": True} if status == 403 else read.data
            add_read(s, actor=actor, action=read.action, entity=read.entity,
                     entity_id=read.entity_id, customer_no=read.customer_no,
                     remote_addr=request.remote_addr or "", data=data)
            s.commit()
    except Exception:
        log.exception("could not audit %s %s; the answer is withheld", request.method,
                      request.path)
        response.close()  # a streamed original's file handle
        return Response("审计日志不可用，请稍后再试 / the audit log is unavailable, try again",
                        status=503, mimetype="text/plain")
    return response
