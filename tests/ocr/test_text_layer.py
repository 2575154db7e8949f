"""The invisible text layer: right text, right place, nothing visible."""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, ImageDraw, ImageFont

from ocr_worker.results import BBox, Word
from ocr_worker.text_layer import build_page_pdf, page_images, relayer_page_pdf
from ocr_worker.tools import run_tool
from tests.ocr.conftest import FACE_SC, FACE_TC, FONT

DPI = 300
PIECES = [  # text, position, face
    ("合同编号", (60, 40), FACE_SC), ("GDHT-2024-000123", (400, 40), FACE_SC),
    ("臺灣電力公司", (60, 160), FACE_TC), ("户名", (60, 280), FACE_SC),
    ("张三", (300, 280), FACE_SC),
]


def drawn_page(tmp_path: Path) -> tuple[Path, list[Word]]:
    """A page with text drawn by PIL, and one word per drawn piece at its ink box."""
    im = Image.new("L", (1400, 400), 255)
    draw = ImageDraw.Draw(im)
    words = []
    for line, (text, xy, face) in enumerate(PIECES):
        font = ImageFont.truetype(str(FONT), 50, index=face)
        draw.text(xy, text, font=font, fill=0)
        x0, y0, x1, y1 = (int(v) for v in draw.textbbox(xy, text, font=font))
        words.append(Word(text, 95.0, (x0, y0, x1, y1), 1, line))
    path = tmp_path / "page.png"
    im.save(path, dpi=(DPI, DPI))
    return path, words


def pdftotext_words(pdf: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Words and their boxes (points, origin top left) as poppler extracts them."""
    out = run_tool(["pdftotext", "-bbox", str(pdf), "-"], timeout=30).stdout.decode()
    pattern = (r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
               r"(.*?)</word>")
    return [(html.unescape(m[4]), (float(m[0]), float(m[1]), float(m[2]), float(m[3])))
            for m in re.findall(pattern, out)]


def overlap_share(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


def to_points(b: BBox) -> tuple[float, ...]:
    return tuple(v * 72 / DPI for v in b)


def test_text_is_extracted_in_order_with_traditional_characters(tmp_path: Path) -> None:
    image, words = drawn_page(tmp_path)
    pdf = build_page_pdf(image, words, tmp_path / "page.pdf", dpi=DPI)
    text = run_tool(["pdftotext", "-raw", str(pdf), "-"], timeout=30).stdout.decode()
    assert "".join(text.split()) == "".join(w.text for w in words)


def test_each_word_is_found_where_the_engine_saw_it(tmp_path: Path) -> None:
    image, words = drawn_page(tmp_path)
    pdf = build_page_pdf(image, words, tmp_path / "page.pdf", dpi=DPI)
    extracted = pdftotext_words(pdf)
    for w in words:
        hits = [box for text, box in extracted if text == w.text]
        assert hits, f"{w.text!r} not extracted: {extracted}"
        assert overlap_share(hits[0], to_points(w.bbox)) > 0.6, (w.text, hits[0], w.bbox)


def test_page_is_the_image_at_its_resolution(tmp_path: Path) -> None:
    image, words = drawn_page(tmp_path)
    pdf = build_page_pdf(image, words, tmp_path / "page.pdf", dpi=DPI)
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == 1
        page = doc.pages[0]
        box = [float(v) for v in page.mediabox]
        assert box == [0.0, 0.0, 1400 * 72 / DPI, 400 * 72 / DPI]
        xobjects = list(page.Resources.XObject.values())
        assert [(x.Subtype, int(x.Width), int(x.Height)) for x in xobjects] == [
            (pikepdf.Name.Image, 1400, 400)]


def test_text_is_invisible(tmp_path: Path) -> None:
    """The page renders exactly like the same page without any text."""
    image, words = drawn_page(tmp_path)
    with_text = build_page_pdf(image, words, tmp_path / "text.pdf", dpi=DPI)
    without = build_page_pdf(image, [], tmp_path / "bare.pdf", dpi=DPI)
    rendered = []
    for pdf in (with_text, without):
        run_tool(["pdftoppm", "-r", "72", "-gray", "-png", str(pdf), str(pdf.with_suffix(""))],
                 timeout=60)
        png = next(tmp_path.glob(f"{pdf.stem}*.png"))
        rendered.append(np.asarray(Image.open(png)))
    assert rendered[0].shape == rendered[1].shape
    assert np.array_equal(rendered[0], rendered[1])
    assert rendered[0].min() < 128  # the page image itself is there


def test_degenerate_boxes_are_skipped(tmp_path: Path) -> None:
    image, words = drawn_page(tmp_path)
    bad = [Word("空", 90.0, (10, 10, 10, 40), 1, 9), Word("", 90.0, (0, 0, 5, 5), 1, 9)]
    pdf = build_page_pdf(image, words + bad, tmp_path / "page.pdf", dpi=DPI)
    text = run_tool(["pdftotext", "-raw", str(pdf), "-"], timeout=30).stdout.decode()
    assert "空" not in text


def test_relayer_keeps_the_engines_image_and_replaces_its_text(tmp_path: Path) -> None:
    """harmonise_script's rebuild: the page image stream of the engine's PDF is carried over
    byte for byte, only the new words are extractable, and the page renders the same."""
    image, words = drawn_page(tmp_path)
    engine_words = [Word("旧" * len(w.text), w.conf, w.bbox, w.block, w.line) for w in words]
    engine_pdf = build_page_pdf(image, engine_words, tmp_path / "engine.pdf", dpi=DPI)
    out = relayer_page_pdf(engine_pdf, image, words, tmp_path / "relayered.pdf", dpi=DPI)
    text = run_tool(["pdftotext", "-raw", str(out), "-"], timeout=30).stdout.decode()
    assert "".join(text.split()) == "".join(w.text for w in words)
    with pikepdf.open(engine_pdf) as a, pikepdf.open(out) as b:
        [old] = page_images(a.pages[0])
        [new] = page_images(b.pages[0])
        assert new.read_raw_bytes() == old.read_raw_bytes()
        assert [float(v) for v in b.pages[0].mediabox] == [float(v) for v in a.pages[0].mediabox]
    rendered = []
    for pdf in (engine_pdf, out):
        run_tool(["pdftoppm", "-r", "72", "-gray", "-png", str(pdf), str(pdf.with_suffix(""))],
                 timeout=60)
        rendered.append(np.asarray(Image.open(next(tmp_path.glob(f"{pdf.stem}*.png")))))
    assert np.array_equal(rendered[0], rendered[1])
    assert not list(tmp_path.glob("*.text.pdf"))  # the text-only intermediate is gone


def test_relayer_falls_back_to_the_image_file_when_the_pdf_is_not_one_image(
        tmp_path: Path) -> None:
    image, words = drawn_page(tmp_path)
    two_images = build_page_pdf(image, [], tmp_path / "a.pdf", dpi=DPI)
    with pikepdf.open(two_images, allow_overwriting_input=True) as doc:
        doc.pages.append(doc.pages[0])  # two pages: not an engine's page PDF
        doc.save(two_images)
    out = relayer_page_pdf(two_images, image, words, tmp_path / "out.pdf", dpi=DPI)
    with pikepdf.open(out) as doc:
        assert len(doc.pages) == 1 and len(page_images(doc.pages[0])) == 1
    text = run_tool(["pdftotext", "-raw", str(out), "-"], timeout=30).stdout.decode()
    assert "".join(text.split()) == "".join(w.text for w in words)
