"""Tests of the synthetic scanned-document generator (dms.sample_data)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from dms.sample_data import (
    generate_corpus,
    generate_pages,
    load_checklist,
    main,
    make_customer,
    render_document,
    save_document,
    save_text_pdf,
    valid_credit_code,
    valid_resident_id,
)
from dms.sample_data.output import open_pages

DOC_TYPES = list(load_checklist()["document_types"])
TITLES = {"SFZM": "居民身份证", "CQZM": ("不动产权证书", "房屋租赁合同")}


def _corrupt(s: str, i: int) -> str:
    alphabet = "0123456789"
    c = s[i]
    return s[:i] + alphabet[(alphabet.index(c) + 1) % 10 if c in alphabet else 0] + s[i + 1:]


def _content(page: pikepdf.Page) -> bytes:
    page.contents_coalesce()
    data: bytes = page.Contents.read_bytes()
    return data


# --- identifiers --------------------------------------------------------------
def test_known_identifiers() -> None:
    assert valid_resident_id("11010519491231002X")  # the GB 11643 textbook example
    assert valid_resident_id("11010519491231002x")
    assert not valid_resident_id("110105194912310021")  # wrong check character
    assert not valid_resident_id("11010519491331002X")  # month 13
    assert not valid_resident_id("1101051949123100")  # too short
    assert valid_credit_code("91350100M000100Y43")
    assert not valid_credit_code("91350100M000100Y44")
    assert not valid_credit_code("91350100M000100YI3")  # I is not in the GB 32100 alphabet
    assert not valid_credit_code("9135010")


def test_generated_identifiers_are_valid_and_corruption_is_detected() -> None:
    for seed in range(200):
        c = make_customer(seed, "company" if seed % 2 else "resident")
        assert valid_resident_id(c.id_number) and valid_resident_id(c.agent_id)
        assert re.fullmatch(r"\d{10}", c.customer_no)
        assert c.contract_start < c.contract_end
        if c.company:
            assert valid_credit_code(c.credit_code)
            assert not valid_credit_code(_corrupt(c.credit_code, seed % 17))
        assert not valid_resident_id(_corrupt(c.id_number, 14 + seed % 3))
    assert make_customer(5) == make_customer(5)


# --- rendering ----------------------------------------------------------------
@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_every_doc_type_renders(doc_type: str) -> None:
    kind = "company" if doc_type in ("YYZZ", "DDXY", "SJSC") else None
    doc = render_document(doc_type, seed=3, customer=make_customer(11, kind))
    assert doc.doc_type == doc_type
    assert len(doc.pages) == len(doc.truth) >= 1
    for img, t in zip(doc.pages, doc.truth, strict=True):
        assert img.size == (2480, 3508) and img.mode in ("1", "L", "RGB")
        assert (t.width, t.height) == img.size and t.script == "simplified"
        assert "\n\n" not in t.text and t.text.strip()
    text = "\n".join(t.text for t in doc.truth)
    name = load_checklist()["document_types"][doc_type]["name"]
    titles = TITLES.get(doc_type, name)
    assert any(x in text for x in ((titles,) if isinstance(titles, str) else titles))
    assert doc.fields
    for key, value in doc.fields.items():  # every key field is printed on the document
        if key not in ("contract_start", "contract_end"):
            assert value in text.replace("\n", "") or value in text, (key, value)
    if doc_type in ("GYDHT", "DDXY"):
        assert len(doc.pages) >= 2 and "第一条" in text
        assert {"contract_no", "contract_start", "contract_end"} <= set(doc.fields)
    if doc_type == "SFZM":
        assert valid_resident_id(doc.fields["id_number"])


def test_traditional_variant() -> None:
    s = render_document("YDSQS", seed=4, script="simplified")
    t = render_document("YDSQS", seed=4, script="traditional")
    assert t.truth[0].script == "traditional"
    assert "用電申請書" in t.truth[0].text and "用电申请书" not in t.truth[0].text
    assert s.truth[0].text != t.truth[0].text
    assert t.truth[0].font.endswith("TC") or t.truth[0].font.startswith("WenQuanYi")


def test_rotation_and_skew() -> None:
    up = render_document("JFPZ", seed=2, noise="none")
    r90 = render_document("JFPZ", seed=2, noise="none", rotation=90)
    r180 = render_document("JFPZ", seed=2, noise="none", rotation=180)
    assert r90.pages[0].size == (3508, 2480) and r90.truth[0].rotation == 90
    assert r180.pages[0].size == up.pages[0].size
    assert r90.truth[0].text == up.truth[0].text
    # rotating back gives the upright page exactly (90° turns are lossless)
    assert r90.pages[0].rotate(-90, expand=True).tobytes() == up.pages[0].tobytes()
    sk = render_document("JFPZ", seed=2, noise="none", skew=2.5)
    assert sk.truth[0].skew == 2.5 and sk.pages[0].tobytes() != up.pages[0].tobytes()
    with pytest.raises(ValueError):
        render_document("JFPZ", seed=2, rotation=45)


def test_determinism() -> None:
    a = render_document("GYDHT", seed=9, script="traditional", skew=1.0)
    b = render_document("GYDHT", seed=9, script="traditional", skew=1.0)
    assert [t.to_dict() for t in a.truth] == [t.to_dict() for t in b.truth]
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a.pages, b.pages, strict=True))
    c = render_document("GYDHT", seed=10, script="traditional", skew=1.0)
    assert c.truth[0].text != a.truth[0].text


# --- saving -------------------------------------------------------------------
def test_save_formats(tmp_path: Path) -> None:
    doc = render_document("GYDHT", seed=1)
    n = len(doc.pages)
    pdf = save_document(doc, tmp_path / "c.pdf", "pdf")
    with pikepdf.open(pdf) as p:
        assert len(p.pages) == n
        assert not _content(p.pages[0]).count(b"Tj")  # image only
    tif = save_document(doc, tmp_path / "c.tif", "tiff")
    pages = open_pages(tif)
    assert len(pages) == n and pages[0].size == (2480, 3508)
    with Image.open(tif) as im:
        assert round(float(im.info["dpi"][0])) == 300
        if doc.bilevel:
            assert im.info["compression"] == "group4"
    for fmt in ("jpeg", "png"):
        path = save_document(doc, tmp_path / f"c.{fmt}", fmt)
        with Image.open(path) as im:
            assert im.size == (2480, 3508) and round(float(im.info["dpi"][0])) == 300
    with pytest.raises(ValueError):
        save_document(doc, tmp_path / "c.bmp", "bmp")


def test_save_text_pdf(tmp_path: Path) -> None:
    doc = render_document("DDXY", seed=2, script="traditional")
    path = save_text_pdf(doc, tmp_path / "t.pdf")
    with pikepdf.open(path) as p:
        assert len(p.pages) == len(doc.pages)
        fonts = p.pages[0].Resources.Font
        assert any("/ToUnicode" in fonts[k] for k in fonts.keys())
        assert b"Tj" in _content(p.pages[0])


# --- corpora --------------------------------------------------------------------
LAYOUT = re.compile(
    r"^(\d{10})_([^/]+)/(\d{12})_([^/]+)/(\d{2})_([A-Z]+)(-\d+)?\.(pdf|tif|jpg|png)$")


def test_corpus_layout_and_truth(tmp_path: Path) -> None:
    m = generate_corpus(tmp_path / "a", customers=2, seed=5, rotated_share=0.5)
    checklist = load_checklist()
    on_disk = {p.relative_to(m.root).as_posix() for p in m.root.rglob("*")
               if p.is_file() and ".truth" not in p.parts}
    truth = json.loads(m.truth_path.read_text(encoding="utf-8"))
    assert {f["path"] for f in truth["files"]} == on_disk == set(m.by_path())
    assert len(truth["customers"]) == 2
    per_business: dict[str, set[str]] = {}
    for f in m.files:
        g = LAYOUT.match(f.path)
        assert g, f.path
        assert g[1] == f.customer_no and g[3] == f.business_no and g[6] == f.doc_type
        assert g[4] == checklist["business_types"][f.business_type]["name"]
        assert f.pages and all(p["text"] for p in f.pages)
        per_business.setdefault(f.business_no + f.business_type, set()).add(f.doc_type)
        if f.format in ("jpeg", "png"):
            assert len(f.pages) == 1
        frames = open_pages(m.root / f.path) if f.format != "pdf" else None
        if frames is not None:
            assert len(frames) == len(f.pages)
        else:
            with pikepdf.open(m.root / f.path) as p:
                assert len(p.pages) == len(f.pages)
    for key, docs in per_business.items():
        code = next(f.business_type for f in m.files if f.business_no + f.business_type == key)
        assert set(checklist["business_types"][code]["required"]) <= docs
    assert any(p["rotation"] for f in m.files for p in f.pages)


def test_corpus_is_deterministic(tmp_path: Path) -> None:
    # same seed, same corpus, whatever the number of worker processes
    a = generate_corpus(tmp_path / "a", customers=1, seed=8, workers=2)
    b = generate_corpus(tmp_path / "b", customers=1, seed=8, workers=1)
    assert a.to_dict() == b.to_dict()
    for f in a.files[:3]:
        assert (a.root / f.path).read_bytes() == (b.root / f.path).read_bytes()


def test_generate_pages_and_cli(tmp_path: Path) -> None:
    entries = generate_pages(tmp_path / "p", 4, seed=3, rotated_share=1.0)
    assert len(entries) == 4
    for e in entries:
        with Image.open(tmp_path / "p" / e["file"]) as im:
            assert im.size == (e["width"], e["height"])
            assert e["rotation"] in (90, 180, 270) and e["text"]
    assert json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8")) == entries
    assert main([str(tmp_path / "c"), "--customers", "1", "--seed", "2"]) == 0
    assert (tmp_path / "c" / ".truth" / "ground_truth.json").exists()


# --- legibility -----------------------------------------------------------------
@pytest.mark.slow
def test_tesseract_reads_the_title(tmp_path: Path) -> None:
    import pytesseract

    # scripts/test.sh installs both: their absence is a broken setup, not a reason to skip.
    assert shutil.which("tesseract"), "tesseract missing: apt-get install tesseract-ocr"
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    assert "chi_sim" in langs, "chi_sim missing: apt-get install tesseract-ocr-chi-sim"
    doc = render_document("YDSQS", seed=1, noise="none")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    text = pytesseract.image_to_string(doc.pages[0], lang="chi_sim", config="--dpi 300")
    compact = re.sub(r"\s+", "", text)
    assert "用电申请书" in compact, compact[:300]
    keys = ("id_number", "credit_code", "customer_no")
    numbers = [doc.fields[k] for k in keys if k in doc.fields]
    assert any(n in compact for n in numbers), compact[:300]
