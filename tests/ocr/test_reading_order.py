"""Reading order: rows top to bottom, cells left to right, from boxes alone."""
from __future__ import annotations

import random

from ocr_worker.reading_order import Piece, group_rows, order_text, order_words
from ocr_worker.results import Word


def test_form_rows_read_label_then_value_even_when_tops_differ() -> None:
    # A two-column form row: the value's box starts 8 px higher than its label's (PP-OCR
    # sorts by top edge and would put the value first).
    pieces = [
        Piece("户号", (100, 208, 220, 260)),
        Piece("3245224647", (400, 200, 700, 262)),
        Piece("户名", (900, 210, 1000, 259)),
        Piece("袁华", (1200, 205, 1300, 258)),
        Piece("用电地址", (100, 330, 300, 382)),
        Piece("南京市秦淮区科技路55号", (400, 328, 1000, 384)),
    ]
    shuffled = pieces[:]
    random.Random(3).shuffle(shuffled)
    assert order_text(shuffled) == "户号 3245224647 户名 袁华\n用电地址 南京市秦淮区科技路55号"


def test_rows_survive_residual_skew_without_merging_neighbours() -> None:
    # Each line drifts 20 px down over its length; the next line is 70 px lower.
    pieces = []
    for row in range(3):
        for col in range(4):
            y = 100 + row * 70 + col * 7
            pieces.append(Piece(f"{row}{col}", (col * 300, y, col * 300 + 200, y + 45)))
    assert order_text(pieces[::-1]).split("\n") == [
        "00 01 02 03", "10 11 12 13", "20 21 22 23"]


def test_a_tall_cell_does_not_glue_two_rows_together() -> None:
    tall = Piece("备注", (100, 100, 250, 300))  # spans two rows of the table
    a = Piece("第一行", (400, 110, 700, 160))
    b = Piece("第二行", (400, 240, 700, 290))
    rows = group_rows([b, tall, a], lambda p: p.bbox)
    assert len(rows) >= 2
    assert [p.text for p in rows[-1]] == ["第二行"]


def test_cjk_neighbours_join_without_space_latin_with_one_cells_with_one() -> None:
    h = 50
    pieces = [
        Piece("供用", (0, 0, 100, h)), Piece("电合同", (105, 0, 250, h)),  # one phrase
        Piece("GDHT-2024", (600, 0, 900, h)), Piece("000123", (915, 0, 1100, h)),
    ]
    assert order_text(pieces) == "供用电合同 GDHT-2024 000123"


def test_order_words_reads_tesseract_style_word_boxes() -> None:
    # Tesseract splits Chinese into one- or two-character "words".
    words = [Word(t, 90.0, (x, 50, x + 48 * len(t), 100), 1, 1)
             for t, x in (("电", 196), ("合", 244), ("供用", 100), ("同", 292))]
    words.append(Word("户名", 90.0, (100, 150, 196, 200), 1, 2))
    assert order_words(words) == "供用电合同\n户名"


def test_empty_and_blank_pieces() -> None:
    assert order_text([]) == ""
    assert order_text([Piece(" ", (0, 0, 10, 10)), Piece("字", (20, 0, 30, 10))]) == "字"
