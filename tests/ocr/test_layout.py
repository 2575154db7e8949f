"""Layout regions: cards side by side and two-column forms read block by block, tables
still row by row -- on boxes, and on real rendered pages read by the default engine.

On main (rows across the whole page) the side-by-side ID-card page read
"姓名 贾伟 中华人民共和国" as its first line: the front's and the back's fields interleaved.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from dms.sample_data.document import default_business
from dms.sample_data.forms import IdCard, sfzm
from dms.sample_data.identity import make_customer
from dms.sample_data.render import Canvas, choose_style
from ocr_worker.engines import get_engine
from ocr_worker.layout import regions
from ocr_worker.reading_order import group_rows
from ocr_worker.results import BBox
from ocr_worker.tools import run_tool
from tests.ocr.conftest import FACE_SC, FONT

DPI = 300
ENGINE = "ppocr5"  # the default engine (README, "OCR engines")


def read_order(items: list[tuple[str, BBox]], key: Any) -> list[list[list[tuple[str, BBox]]]]:
    return [group_rows(region, key) for region in regions(items, key)]


def _texts(blocks: list[list[tuple[str, BBox]]]) -> list[list[str]]:
    return [[t for t, _ in block] for block in blocks]


def _regions(pieces: list[tuple[str, BBox]]) -> list[list[str]]:
    return _texts(regions(pieces, lambda p: p[1]))


# --- boxes ---------------------------------------------------------------------------


def test_a_table_whose_cells_align_as_rows_is_not_split_into_columns() -> None:
    # Label | value | label | value, four rows, a wide gap between the pairs.
    pieces = [(f"{r}{c}", (100 + c * 600, 100 + r * 90, 400 + c * 600, 145 + r * 90))
              for r in range(4) for c in range(4)]
    random.Random(1).shuffle(pieces)
    assert len(regions(pieces, lambda p: p[1])) == 1
    rows = read_order(pieces, lambda p: p[1])[0]
    assert [[t for t, _ in row] for row in rows][0] == ["00", "01", "02", "03"]


def test_cards_side_by_side_are_two_regions_left_first() -> None:
    # Left card rows every 55 px from 100, right card rows at other heights and sizes.
    left = [(f"L{i}", (100, 100 + 55 * i, 600, 135 + 55 * i)) for i in range(6)]
    right = [("R0", (1200, 120, 1700, 155)), ("R1", (1250, 190, 1650, 255)),
             ("R2", (1150, 340, 1800, 375)), ("R3", (1150, 395, 1800, 430))]
    assert _regions(right + left) == [[f"L{i}" for i in range(6)], ["R0", "R1", "R2", "R3"]]


def test_a_title_above_two_columns_is_read_first_and_a_footer_last() -> None:
    title = ("T", (300, 20, 1500, 80))
    left = [(f"L{i}", (100, 200 + 60 * i, 700, 240 + 60 * i)) for i in range(5)]
    right = [(f"R{i}", (1000, 230 + 75 * i, 1700, 260 + 75 * i)) for i in range(4)]
    footer = ("F", (300, 700, 1500, 750))
    blocks = read_order([footer, *right, title, *left], lambda p: p[1])
    flat = [t for block in blocks for row in block for t, _ in row]
    assert flat == ["T", "L0", "L1", "L2", "L3", "L4", "R0", "R1", "R2", "R3", "F"]


def test_one_line_beside_a_column_or_a_narrow_gap_is_no_split() -> None:
    # A date printed on the right of the last body line, and a column 1 line-height away.
    body = [(f"B{i}", (100, 100 + 60 * i, 900, 140 + 60 * i)) for i in range(5)]
    date = ("D", (1400, 355, 1800, 395))
    assert len(regions([*body, date], lambda p: p[1])) == 1
    near = [(f"N{i}", (940, 120 + 75 * i, 1500, 150 + 75 * i)) for i in range(4)]
    assert len(regions([*body, *near], lambda p: p[1])) == 1


# --- real pages ----------------------------------------------------------------------


def id_cards_side_by_side(seed: int) -> tuple[Image.Image, list[str], list[str]]:
    """An ID card's front and back, rendered by dms.sample_data, copied side by side on one
    page (as a counter clerk copies them), and the lines each card carries."""
    r = random.Random(seed)
    customer = make_customer(seed)
    spec = sfzm(customer, default_business(customer, r), r)
    card = next(b for b in spec.blocks if isinstance(b, IdCard))
    canvas = Canvas(choose_style(r, "simplified", False), lambda s: s, r, False)
    canvas.idcard(card)  # front above back on an A4 page
    page = np.asarray(canvas.out.pages[0].convert("L"))
    lines = canvas.out.lines[0]
    filled = np.flatnonzero((page == 236).sum(axis=1) > 200)  # the cards' grey fill
    cut = int(np.flatnonzero(np.diff(filled) > 1)[0])
    spans = [(filled[0], filled[cut]), (filled[cut + 1], filled[-1])]
    cols = np.flatnonzero((page[spans[0][0]:spans[0][1]] == 236).sum(axis=0) > 50)
    x0, x1 = int(cols[0]) - 10, int(cols[-1]) + 10
    front, back = (page[y0 - 10:y1 + 10, x0:x1] for y0, y1 in spans)
    h, w = front.shape
    out = np.full((max(h, back.shape[0]) + 240, 2 * w + 320), 255, np.uint8)
    out[120:120 + h, 120:120 + w] = front
    out[120:120 + back.shape[0], 200 + w:200 + w + back.shape[1]] = back
    n_back = 2 + len(card.back)
    return Image.fromarray(out), lines[:-n_back], lines[-n_back:]


def _squeeze(s: str) -> str:
    return "".join(s.split())


def _line_index(lines: list[str], wanted: str) -> int:
    """Index of the read line holding the longest-matching part of ``wanted``."""
    target = _squeeze(wanted)
    for size in (len(target), 6, 4):
        for i, line in enumerate(lines):
            if any(target[k:k + size] in _squeeze(line) for k in range(len(target) - size + 1)):
                return i
    raise AssertionError(f"{wanted!r} not read at all: {lines}")


@pytest.mark.parametrize(("engine", "seed"), [(ENGINE, 1), (ENGINE, 7), ("tesseract", 1)])
def test_id_card_front_and_back_side_by_side_are_read_card_by_card(
        tmp_path: Path, engine: str, seed: int) -> None:
    image, front, back = id_cards_side_by_side(seed)
    path = tmp_path / "cards.png"
    image.save(path, dpi=(DPI, DPI))
    out = get_engine(engine).recognise(path, languages="chi_sim", dpi=DPI, timeout=120,
                                       pdf=True)
    lines = [x for x in out.text.splitlines() if x.strip()]
    last_front = max(_line_index(lines, s) for s in front)
    first_back = min(_line_index(lines, s) for s in back)
    assert last_front < first_back, out.text
    # The words and the PDF text layer follow the same order.
    in_order = "".join(w.text for w in out.words)
    assert in_order.index(_squeeze(front[0])[:4]) < in_order.index("签发机关"), in_order
    assert out.pdf is not None
    layer = run_tool(["pdftotext", "-raw", str(out.pdf), "-"], timeout=30).stdout.decode()
    flat = _squeeze(layer)
    assert flat.index(_squeeze(front[0])[:4]) < flat.index("中华人民共和国"), layer
    assert flat.index(_squeeze(front[-1])[:6]) < flat.index("签发机关"), layer


LEFT_FORM = ["户名 王建国", "户号 3301000001", "用电类别 居民生活", "电表编号 ZJ2024001",
             "受电容量 8千瓦"]
RIGHT_NOTE = ["办理须知：", "一、请携带身份证原件", "二、复印件加盖公章", "三、三个工作日内办结"]


@pytest.mark.parametrize("engine", [ENGINE, "tesseract"])
def test_two_column_form_is_read_column_by_column(tmp_path: Path, engine: str) -> None:
    big = ImageFont.truetype(str(FONT), 50, index=FACE_SC)
    small = ImageFont.truetype(str(FONT), 40, index=FACE_SC)
    im = Image.new("L", (2000, 640), 255)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(LEFT_FORM):  # fields on a 110 px grid
        draw.text((80, 60 + 110 * i), line, font=big, fill=0)
    for i, line in enumerate(RIGHT_NOTE):  # the note on its own 85 px grid, lower
        draw.text((1150, 95 + 85 * i), line, font=small, fill=0)
    path = tmp_path / "columns.png"
    im.save(path, dpi=(DPI, DPI))
    out = get_engine(engine).recognise(path, languages="chi_sim", dpi=DPI, timeout=120)
    lines = [x for x in out.text.splitlines() if x.strip()]
    assert [_line_index(lines, s) for s in LEFT_FORM + RIGHT_NOTE] == \
        list(range(len(LEFT_FORM) + len(RIGHT_NOTE))), out.text


def test_a_rendered_table_form_stays_row_by_row(tmp_path: Path) -> None:
    font = ImageFont.truetype(str(FONT), 46, index=FACE_SC)
    rows = [("户名", "王建国", "户号", "3301000001"), ("用电类别", "居民生活", "电压", "220伏"),
            ("电表编号", "ZJ2024001", "容量", "8千瓦")]
    im = Image.new("L", (2200, 480), 255)
    draw = ImageDraw.Draw(im)
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            draw.text((80 + 520 * c, 80 + 120 * r), cell, font=font, fill=0)
    path = tmp_path / "table.png"
    im.save(path, dpi=(DPI, DPI))
    out = get_engine(ENGINE).recognise(path, languages="chi_sim", dpi=DPI, timeout=120)
    assert [_squeeze(x) for x in out.text.splitlines()] == ["".join(r) for r in rows], out.text
