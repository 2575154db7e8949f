"""Synthetic scanned documents of a power utility's customer archive, with ground truth.

Used by tests, demos and the OCR/classification benchmarks: every document type of
``config/checklists.yaml`` rendered as a realistic Chinese (simplified or traditional)
form, contract or certificate, degraded like a batch-scanner page, with the exact
text drawn and the key fields recorded.

    >>> doc = render_document("GYDHT", seed=7, script="traditional", rotation=90)
    >>> save_document(doc, Path("contract.pdf"), "pdf")
    >>> generate_corpus(Path("scans"), customers=6, seed=1)
"""
from __future__ import annotations

from dms.sample_data.corpus import (
    CorpusManifest,
    FileTruth,
    generate_corpus,
    generate_pages,
    load_checklist,
    main,
)
from dms.sample_data.document import PageTruth, RenderedDocument, render_document
from dms.sample_data.forms import BusinessInfo
from dms.sample_data.identity import (
    CustomerProfile,
    make_customer,
    valid_credit_code,
    valid_resident_id,
)
from dms.sample_data.output import save_document, save_text_pdf

__all__ = [
    "BusinessInfo", "CorpusManifest", "CustomerProfile", "FileTruth", "PageTruth",
    "RenderedDocument", "generate_corpus", "generate_pages", "load_checklist", "main",
    "make_customer", "render_document", "save_document", "save_text_pdf",
    "valid_credit_code", "valid_resident_id",
]
