"""Latin words keep their spaces in the page text and the PDF text layer, restored from
the scan when the engine dropped them; Chinese and identifiers get none.

On main, PP-OCRv4 read these headings as "POWERSUPPLYCONTRACT" and "PowerSupplyContract"
(the page text and the text layer alike), so a search for "Power Supply Contract" missed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_worker.engines import get_engine
from ocr_worker.latin_spaces import Glyph, restore_spaces
from ocr_worker.tools import run_tool

DPI = 300
NOTO = "/usr/share/fonts/opentype/noto/"
FONTS = {"sans-40": (NOTO + "NotoSansCJK-Regular.ttc", 40),
         "serif-60": (NOTO + "NotoSerifCJK-Regular.ttc", 60),
         "bold-40": (NOTO + "NotoSansCJK-Bold.ttc", 40)}
LINES = ["供用电合同 POWER SUPPLY CONTRACT",
         "合同编号 SDGDHT2020075456",
         "高压供用电合同 HIGH VOLTAGE POWER SUPPLY CONTRACT",
         "Power Supply Contract 供用电合同"]


def heading_page(tmp_path: Path, font: str) -> Path:
    path, size = FONTS[font]
    face = ImageFont.truetype(path, size, index=2)  # Simplified Chinese face
    im = Image.new("L", (2400, 80 + 2 * size * len(LINES)), 255)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(LINES):
        draw.text((60, 40 + 2 * size * i), line, font=face, fill=0)
    out = tmp_path / f"heading-{font}.png"
    im.save(out, dpi=(DPI, DPI))
    return out


@pytest.mark.parametrize("engine", ["ppocr", "ppocr5"])
@pytest.mark.parametrize("font", sorted(FONTS))
def test_bilingual_headings_keep_their_word_spaces(tmp_path: Path, engine: str,
                                                   font: str) -> None:
    out = get_engine(engine).recognise(heading_page(tmp_path, font), languages="chi_sim",
                                       dpi=DPI, timeout=120, pdf=True)
    assert [line.split() for line in out.text.splitlines()] == \
        [line.split() for line in LINES], out.text
    latin = [w.text for w in out.words if w.text.isascii()]
    assert latin.count("SUPPLY") == 2 and "SDGDHT2020075456" in latin, latin
    assert out.pdf is not None
    layer = run_tool(["pdftotext", "-raw", str(out.pdf), "-"], timeout=30).stdout.decode()
    words = layer.split()
    for phrase in ("POWER SUPPLY CONTRACT", "HIGH VOLTAGE POWER", "Power Supply Contract"):
        assert phrase in " ".join(words), layer
    assert "SDGDHT2020075456" in words, layer


def _glyphs(text: str, font: ImageFont.FreeTypeFont, draw: ImageDraw.ImageDraw,
            x: int, y: int) -> list[Glyph]:
    """Per-character boxes as the page shows them (what the recogniser's alignment
    approximates), the characters written with no space between words."""
    out = []
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        left = x + int(font.getlength(text[:i]))
        right = x + int(font.getlength(text[:i + 1]))
        out.append(Glyph(ch, (left, y, right, y + int(font.size * 1.2))))
    return out


def test_spaces_only_where_the_scan_has_them() -> None:
    font = ImageFont.truetype(NOTO + "NotoSansCJK-Regular.ttc", 50, index=2)
    im = Image.new("L", (2000, 200), 255)
    draw = ImageDraw.Draw(im)
    text = "合同 SDGDHT2020075456 供电 POWER SUPPLY 第3页"
    draw.text((40, 40), text, font=font, fill=0)
    glyphs = _glyphs(text, font, draw, 40, 40)
    got = "".join(g.text for g in restore_spaces(np.asarray(im), glyphs))
    assert got == text
    # A blank page region (no contrast): nothing is invented.
    blank = np.full((200, 2000), 255, np.uint8)
    assert "".join(g.text for g in restore_spaces(blank, glyphs)) == "".join(text.split())
