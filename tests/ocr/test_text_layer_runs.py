"""In the searchable PDF's text layer a run of Latin letters and digits is one word: a PDF
reader (pdftotext, pdfminer as viewers extract text) finds a contract or ID number whole,
however the engine split it into pieces."""
from __future__ import annotations

from pathlib import Path

from pdfminer.high_level import extract_text
from PIL import Image, ImageDraw, ImageFont

from ocr_worker.results import Word
from ocr_worker.text_layer import build_page_pdf, join_latin_runs
from ocr_worker.tools import run_tool
from tests.ocr.conftest import FACE_SC, FONT

DPI = 300
# Each line: the pieces an engine returned, drawn as one string (no space inside).
LINES = [("合同编号", ["SD", "GD", "HT2020075456"]),
         ("身份证号", ["37010419750", "9243299"]),
         ("户号", list("3301000001"))]  # one box per character, as PP-OCR gives


def drawn(tmp_path: Path) -> tuple[Path, list[Word]]:
    im = Image.new("L", (2000, 420), 255)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(FONT), 50, index=FACE_SC)
    words: list[Word] = []
    for n, (label, pieces) in enumerate(LINES):
        y = 40 + n * 120
        draw.text((60, y), label, font=font, fill=0)
        words.append(Word(label, 95.0, tuple(int(v) for v in  # type: ignore[arg-type]
                                             draw.textbbox((60, y), label, font=font)), 1, n))
        text, x = "".join(pieces), 400
        draw.text((x, y), text, font=font, fill=0)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
        # Like PP-OCR's boxes: the line's box cut in proportion to the characters, each
        # piece's box a little inside its share (the pieces do not touch).
        per_char, inset = (x1 - x0) / len(text), int(0.1 * (y1 - y0))
        done = 0
        for piece in pieces:
            left = x0 + per_char * done
            right = left + per_char * len(piece)
            words.append(Word(piece, 90.0, (int(left) + inset, y0, int(right) - inset, y1),
                              1, n))
            done += len(piece)
    path = tmp_path / "ids.png"
    im.save(path, dpi=(DPI, DPI))
    return path, words


def test_identifiers_are_one_word_for_pdftotext_and_pdfminer(tmp_path: Path) -> None:
    image, words = drawn(tmp_path)
    pdf = build_page_pdf(image, words, tmp_path / "ids.pdf", dpi=DPI)
    raw = run_tool(["pdftotext", "-raw", str(pdf), "-"], timeout=30).stdout.decode()
    layout = run_tool(["pdftotext", str(pdf), "-"], timeout=30).stdout.decode()
    viewer = extract_text(str(pdf))
    for number in ("SDGDHT2020075456", "370104197509243299", "3301000001"):
        for name, text in (("pdftotext -raw", raw), ("pdftotext", layout),
                           ("pdfminer", viewer)):
            assert number in text.split(), f"{number} split by {name}: {text!r}"
    assert "合同编号" in raw


def test_only_close_latin_pieces_are_joined() -> None:
    def w(text: str, x0: int, x1: int) -> Word:
        return Word(text, 90.0, (x0, 0, x1, 40))

    # "power supply": a real space (0.5 of the height) keeps the two words apart.
    assert [x.text for x in join_latin_runs([w("power", 0, 120), w("supply", 140, 260)])] == \
        ["power", "supply"]
    assert [x.text for x in join_latin_runs([w("SD", 0, 50), w("GD", 53, 100)])] == ["SDGD"]
    joined = join_latin_runs([w("SD", 0, 50), w("GD", 53, 100)])[0]
    assert joined.bbox == (0, 0, 100, 40)
    # Chinese is never joined with a neighbouring number.
    assert [x.text for x in join_latin_runs([w("户号", 0, 80), w("3301", 82, 160)])] == \
        ["户号", "3301"]
