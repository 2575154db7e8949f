"""End to end on a real scan: a Traditional-Chinese page scanned upside down, read by
the production OCR pipeline, then classified and its facts extracted."""
from __future__ import annotations

from pathlib import Path

import pytest

from dms.classify.ocr_cache import DocKey, ocr_document
from dms.domain.classify_rules import classify_text, load_rules
from dms.domain.facts import extract_facts
from dms.settings import DEFAULT_CONFIG_DIR


@pytest.mark.slow
def test_traditional_upside_down_scan_is_classified_and_read(tmp_path: Path) -> None:
    doc = ocr_document(DocKey("JFPZ", seed=77, script="traditional", rotation=180), tmp_path)
    assert len(doc.pages) == 1 and doc.pages[0].text.strip()
    rules = load_rules(DEFAULT_CONFIG_DIR / "doc_types.yaml")
    pred = classify_text(rules, [p.text for p in doc.pages])
    assert pred.doc_type == "JFPZ" and pred.confidence >= 0.6
    facts = extract_facts([p.text for p in doc.pages])
    assert facts["customer_no"].value == doc.customer_no
    # cached: the second call does not OCR again
    assert ocr_document(doc.key, tmp_path).pages[0].ocr_seconds == doc.pages[0].ocr_seconds
