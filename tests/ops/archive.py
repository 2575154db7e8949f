"""A populated archive for the operations tests, written the way ingest and OCR write it
(originals under their content key, page images, word boxes, page PDFs and the searchable
PDF under the keys ocr_flow uses, rows committed, pages indexed), without running OCR:
fsck, backup and restore only move and check bytes, so any bytes will do."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from dms.db.models import Business, Customer, Document, Page
from dms.db.session import session_scope
from dms.services.container import Services
from dms.services.indexing import reindex_all
from dms.storage import content_key

TEXTS = ["供用电合同 甲方 国网供电公司 乙方 {name} 户号 {no}",
         "用电申请书 申请容量 {n}0千伏安 联系人 {name}",
         "身份证复印件 姓名 {name} 住址 杭州市西湖区{n}号"]
NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]


@dataclass
class Archive:
    documents: list[int] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    pages: int = 0


def populate(services: Services, customers: int = 4, docs_per_customer: int = 2,
             pages_per_doc: int = 2, start: int = 0) -> Archive:
    store, out = services.store, Archive()
    with session_scope(services.sessions) as s:
        for c in range(start, start + customers):
            name = NAMES[c % len(NAMES)]
            cust = Customer(customer_no=f"33010{c:05d}", name=name)
            biz = Business(business_no=f"YK2026{c:06d}", customer=cust,
                           business_type="LV_RES_NEW")
            out.customers.append(cust.customer_no)
            for d in range(docs_per_customer):
                data = f"%PDF-1.4 original {c}-{d} ".encode() * 50
                sha = hashlib.sha256(data).hexdigest()
                key = content_key("originals", sha, ".pdf")
                store.put_bytes(key, data)
                doc = Document(sha256=sha, customer=cust, business=biz, mime="application/pdf",
                               source_name=f"{cust.customer_no}/{d}.pdf", size_bytes=len(data),
                               original_key=key, ocr_status="done", page_count=pages_per_doc,
                               doc_type="GYDHT" if d == 0 else "YDSQ")
                for n in range(1, pages_per_doc + 1):
                    img = f"pages/{sha[:2]}/{sha}/{n:04d}.png"
                    base = f"ocr/{sha[:2]}/{sha}/{n:04d}"
                    text = TEXTS[(d + n) % len(TEXTS)].format(name=name, no=cust.customer_no,
                                                              n=c * 10 + n)
                    store.put_bytes(img, b"\x89PNG page " + img.encode())
                    store.put_bytes(base + ".words.json", json.dumps([text]).encode())
                    store.put_bytes(base + ".pdf", b"%PDF-1.4 page " + base.encode())
                    doc.pages.append(Page(page_no=n, image_key=img, text=text,
                                          words_key=base + ".words.json",
                                          page_pdf_key=base + ".pdf", ocr_status="done",
                                          confidence=90.0))
                    out.pages += 1
                doc.searchable_pdf_key = f"searchable/{sha[:2]}/{sha}.pdf"
                store.put_bytes(doc.searchable_pdf_key, b"%PDF-1.4 searchable " + data[:64])
                s.add(doc)
        s.flush()
        out.documents = list(s.scalars(select(Document.id).order_by(Document.id)))
    with session_scope(services.sessions) as s:
        reindex_all(s, services.index, clear=False)
    return out
