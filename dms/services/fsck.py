"""`dms fsck`: is every stored object present and intact, and does the index hold exactly
the database's pages?

Only the ``ObjectStore`` and ``SearchIndex`` protocols are used, so the same check runs on
the embedded default (folder + tantivy) and on S3 + Elasticsearch. Repair re-queues OCR
for documents whose derived objects are gone, rebuilds the index when it differs, and
marks (``Document.original_state``) what cannot be recovered. It never deletes an
original: a missing or corrupt one is a case for ``dms restore``, not for cleaning up.
"""
from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dms.db import audit
from dms.db.models import Customer, Document, Page
from dms.db.session import session_scope
from dms.errors import DmsError, ObjectNotFoundError
from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from dms.services.indexing import reindex_all
from dms.services.ocr_flow import RENDERED_SUFFIX
from dms.storage.base import CHUNK_SIZE
from hanzi.ranges import COMMON_HAN
from search import SearchQuery

log = logging.getLogger(__name__)

# Documents whose OCR finished: their pages, page objects and searchable PDF must exist.
FINISHED = ("done", "partial")
# A run of Han characters long enough to be a selective query for the content sample.
_HAN_RUN = re.compile(f"[{COMMON_HAN}]{{2,8}}")
BATCH = 200


@dataclass
class Problem:
    kind: str  # see KINDS
    detail: str
    document_id: int | None = None
    page_no: int | None = None
    key: str = ""
    repaired: str = ""  # what --repair did about it ("" = nothing)


KINDS = {
    "original_missing": "原件缺失",
    "original_corrupt": "原件校验值不符",
    "original_size": "原件大小不符",
    "page_image_missing": "页面图像缺失",
    "page_text_missing": "页面文字缺失",
    "page_pdf_missing": "页面PDF缺失",
    "searchable_pdf_missing": "可检索PDF缺失",
    "pages_missing": "页面记录缺失",
    "index_count": "索引页数与数据库不符",
    "index_missing": "索引缺少页面",
    "index_extra": "索引多出页面",
    "index_content": "索引内容与数据库不符",
    "index_down": "索引不可用",
    "store_error": "对象存储错误",
}


@dataclass
class FsckReport:
    quick: bool
    documents: int = 0
    pages: int = 0
    objects_checked: int = 0
    bytes_hashed: int = 0
    index_pages: int | None = None
    expected_index_pages: int = 0
    sampled_customers: int = 0
    problems: list[Problem] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def add(self, kind: str, detail: str, **where: Any) -> Problem:
        p = Problem(kind, detail, **where)
        self.problems.append(p)
        return p

    def text(self) -> str:
        lines = [
            f"检查文档 {self.documents} 个，页面 {self.pages} 个，对象 {self.objects_checked} 个"
            f"（{'仅查存在与大小' if self.quick else f'校验 {self.bytes_hashed} 字节 SHA-256'}）",
            f"索引页数 {self.index_pages if self.index_pages is not None else '-'}，"
            f"数据库应索引页数 {self.expected_index_pages}，抽查客户 {self.sampled_customers} 个",
        ]
        for p in self.problems:
            where = " ".join(x for x in (
                f"document {p.document_id}" if p.document_id is not None else "",
                f"page {p.page_no}" if p.page_no is not None else "", p.key) if x)
            fix = f" → {p.repaired}" if p.repaired else ""
            lines.append(f"  [{p.kind}] {KINDS.get(p.kind, p.kind)}: {where} {p.detail}{fix}")
        for what, n in sorted(self.repairs.items()):
            lines.append(f"修复 / repaired: {what} {n}")
        lines.append("正常 / OK" if self.ok
                     else f"发现问题 {len(self.problems)} 个 / problems found")
        return "\n".join(lines)


Progress = Callable[[int, int], None]  # (documents done, documents total)


def _hash_object(services: Services, key: str) -> tuple[str, int]:
    """Stream the object through SHA-256; memory stays flat whatever its size."""
    h, n = hashlib.sha256(), 0
    with services.store.open_read(key) as fh:
        while chunk := fh.read(CHUNK_SIZE):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _iter_documents(session: Session) -> Iterator[Document]:
    last = 0
    while True:
        docs = session.scalars(select(Document).where(Document.id > last).order_by(Document.id)
                               .limit(BATCH).options(selectinload(Document.pages))).all()
        if not docs:
            return
        yield from docs
        last = docs[-1].id
        session.expunge_all()


def _check_original(services: Services, doc: Document, report: FsckReport) -> str:
    """'ok', 'missing' or 'corrupt' (a wrong size or hash: the bytes changed)."""
    report.objects_checked += 1
    key = doc.original_key
    try:
        if report.quick:
            if not services.store.exists(key):
                report.add("original_missing", "not in the object store", document_id=doc.id,
                           key=key)
                return "missing"
            size = services.store.size(key)
            if size != doc.size_bytes:
                report.add("original_size", f"{size} bytes, recorded {doc.size_bytes}",
                           document_id=doc.id, key=key)
                return "corrupt"
            return "ok"
        digest, size = _hash_object(services, key)
    except ObjectNotFoundError:
        report.add("original_missing", "not in the object store", document_id=doc.id, key=key)
        return "missing"
    report.bytes_hashed += size
    if digest != doc.sha256:
        report.add("original_corrupt", f"sha256 {digest}, recorded {doc.sha256}",
                   document_id=doc.id, key=key)
        return "corrupt"
    return "ok"


def _check_derived(services: Services, doc: Document, report: FsckReport) -> bool:
    """Page images, word boxes (the page text's source), page PDFs, the searchable PDF.
    True when something is missing (OCR again rebuilds it from the original)."""
    missing = False

    def present(kind: str, key: str | None, page_no: int | None) -> None:
        nonlocal missing
        report.objects_checked += 1
        if not key or not services.store.exists(key):
            report.add(kind, "not in the object store" if key else "no key recorded",
                       document_id=doc.id, page_no=page_no, key=key or "")
            missing = True

    # Once a document is assembled, its page images and one-page PDFs were work files:
    # the searchable PDF holds the same image bytes (the viewer reads them there), and
    # they are deleted unless DMS_KEEP_PAGE_ARTIFACTS asks to keep them.
    assembled = doc.ocr_status in FINISHED and not services.settings.keep_page_artifacts
    for p in doc.pages:
        if p.ocr_status == "done":
            present("page_text_missing", p.words_key, p.page_no)
            if not assembled:
                present("page_image_missing", p.image_key, p.page_no)
                present("page_pdf_missing", p.page_pdf_key, p.page_no)
        elif not (assembled and p.ocr_status == "failed") and not (
                p.image_key.endswith(RENDERED_SUFFIX)):
            # (A page poppler renders gets its image in its own page task, from the
            # original checked above: before that task it has none to miss.)
            present("page_image_missing", p.image_key, p.page_no)
    if doc.ocr_status in FINISHED:
        if not doc.pages:
            report.add("pages_missing", f"OCR {doc.ocr_status} but no page rows",
                       document_id=doc.id)
            missing = True
        elif any(p.ocr_status == "done" for p in doc.pages):
            present("searchable_pdf_missing", doc.searchable_pdf_key, None)
    return missing


def _indexed_pages_stmt() -> Any:
    """The pages `dms reindex` writes: done pages of documents whose OCR finished."""
    return (select(func.count()).select_from(Page).join(Document)
            .where(Page.ocr_status == "done", Document.ocr_status.in_(FINISHED)))


def _check_index(services: Services, session: Session, report: FsckReport,
                 sample: int, rng: random.Random) -> bool:
    """Counts, then a sample of customers: the index must hold exactly their pages, each
    found again by a word of its own text. True when the index differs."""
    report.expected_index_pages = int(session.scalar(_indexed_pages_stmt()) or 0)
    try:
        index = services.index
        index.refresh()
        report.index_pages = index.count()
    except DmsError as exc:
        report.add("index_down", exc.message)
        return True
    differs = False
    if report.index_pages != report.expected_index_pages:
        report.add("index_count", f"index {report.index_pages}, database "
                                  f"{report.expected_index_pages}")
        differs = True
    customers = list(session.scalars(select(Customer.customer_no)))
    for customer_no in rng.sample(customers, min(sample, len(customers))):
        report.sampled_customers += 1
        differs |= _compare_customer(services, session, customer_no, report, rng)
    return differs


def _compare_customer(services: Services, session: Session, customer_no: str,
                      report: FsckReport, rng: random.Random) -> bool:
    rows = session.execute(
        select(Page.document_id, Page.page_no, Page.text, Document.doc_type)
        .join(Document).join(Customer)
        .where(Customer.customer_no == customer_no, Page.ocr_status == "done",
               Document.ocr_status.in_(FINISHED))).all()
    expected = {f"{r.document_id}:{r.page_no}": r for r in rows}
    index = services.index
    res = index.search(SearchQuery(filters={"customer_no": [customer_no]}, size=1000,
                                   facets=False))
    found = {h.page_id: h for h in res.hits}
    differs = False
    if res.total <= 1000:  # a customer with more pages is compared by count only
        for pid in sorted(set(expected) - set(found)):
            doc_id, page_no = (int(x) for x in pid.split(":"))
            report.add("index_missing", f"customer {customer_no}", document_id=doc_id,
                       page_no=page_no)
            differs = True
        for pid in sorted(set(found) - set(expected)):
            report.add("index_extra", f"customer {customer_no}",
                       document_id=found[pid].document_id, page_no=found[pid].page_no)
            differs = True
    elif res.total != len(expected):
        report.add("index_count", f"customer {customer_no}: index {res.total}, "
                                  f"database {len(expected)}")
        differs = True
    both = sorted(set(expected) & set(found))
    for pid in rng.sample(both, min(3, len(both))):
        row, hit = expected[pid], found[pid]
        if (hit.fields.get("doc_type") or "") != (row.doc_type or ""):
            report.add("index_content", f"doc_type {hit.fields.get('doc_type')!r}, database "
                       f"{row.doc_type!r}", document_id=row.document_id, page_no=row.page_no)
            differs = True
            continue
        words = _HAN_RUN.findall(row.text or "")
        if not words:
            continue
        word = rng.choice(words)
        got = index.search(SearchQuery(text=word, filters={"customer_no": [customer_no]},
                                       size=1000, facets=False))
        if pid not in {h.page_id for h in got.hits}:
            report.add("index_content", f"its text {word!r} does not find it",
                       document_id=row.document_id, page_no=row.page_no)
            differs = True
    return differs


def run_fsck(services: Services, *, quick: bool = False, sample: int = 20,
             repair: bool = False, dispatcher: Dispatcher | None = None,
             seed: int | None = None, progress: Progress | None = None) -> FsckReport:
    """Check everything; with ``repair`` also fix what can be fixed (see module doc)."""
    if repair and dispatcher is None:
        raise ValueError("repair needs a dispatcher to re-queue OCR")
    report = FsckReport(quick=quick)
    rng = random.Random(seed)
    reocr: list[int] = []
    states: dict[int, str] = {}
    with services.sessions() as session:
        total = int(session.scalar(select(func.count()).select_from(Document)) or 0)
        for doc in _iter_documents(session):
            report.documents += 1
            report.pages += len(doc.pages)
            state = _check_original(services, doc, report)
            states[doc.id] = state
            if _check_derived(services, doc, report) and state == "ok":
                reocr.append(doc.id)
            if progress and report.documents % 500 == 0:
                progress(report.documents, total)
        if progress:
            progress(report.documents, total)
        index_differs = _check_index(services, session, report, sample, rng)
    if repair:
        assert dispatcher is not None
        _repair(services, dispatcher, report, states, reocr, index_differs)
    return report


def _repair(services: Services, dispatcher: Dispatcher, report: FsckReport,
            states: dict[int, str], reocr: list[int], index_differs: bool) -> None:
    from dms.services.ocr_flow import reprocess

    now = datetime.now(UTC)
    marked = cleared = 0
    with session_scope(services.sessions) as session:
        for doc in session.scalars(select(Document).where(Document.id.in_(list(states)))):
            state = states[doc.id]
            if state != doc.original_state:
                audit.record(session, actor="fsck", action="original_state",
                             entity="document", entity_id=doc.id,
                             from_state=doc.original_state, to_state=state)
                marked += state != "ok"
                cleared += state == "ok"
                doc.original_state = state
            doc.original_checked_at = now
    unrecoverable = {k for k, v in states.items() if v != "ok"}
    for p in report.problems:
        if p.document_id in unrecoverable and p.kind.startswith(("original", "page", "search")):
            p.repaired = f"marked {states[p.document_id]} (restore the original from a backup)"
    if reocr:
        reprocess(services, dispatcher, reocr, actor="fsck")
        for p in report.problems:
            if p.document_id in reocr and p.kind.startswith(("page", "searchable", "pages")):
                p.repaired = "OCR re-queued"
    if index_differs and not any(p.kind == "index_down" for p in report.problems):
        # Upserts cannot remove an extra entry: rebuild (documents re-queued above are
        # removed from the index by their OCR and added back when it finishes).
        with session_scope(services.sessions) as session:
            n = reindex_all(session, services.index)
        report.repairs["pages reindexed"] = n
        for p in report.problems:
            if p.kind.startswith("index"):
                p.repaired = "reindexed"
    elif any(p.kind == "index_down" for p in report.problems):
        report.repairs["index down: run `dms reindex`"] = 1
    report.repairs["documents re-queued for OCR"] = len(reocr)
    report.repairs["originals marked unrecoverable"] = marked
    report.repairs["originals found again"] = cleared
