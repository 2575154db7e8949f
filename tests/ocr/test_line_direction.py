"""The cheap 0-against-180 vote for pages tesseract reads (ocr_worker/line_direction.py):
PP-OCR's direction classifier over pieces of the lines the row profile finds."""
from __future__ import annotations

import numpy as np
import pytest

from dms.sample_data import render_document
from ocr_worker.line_direction import direction_votes, line_pieces
from ocr_worker.steps import ink_mask, rotate_right_angle

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("doc_type", "skew"), [("GYDHT", 0.0), ("YDSQS", 1.0),
                                                 ("SFZM", 0.0)])
def test_votes_tell_upright_from_upside_down(doc_type: str, skew: float) -> None:
    doc = render_document(doc_type, seed=3, skew=skew)
    grey = np.asarray(doc.pages[0].convert("L"))
    for turn, winner in ((0, 0), (180, 1)):
        page = rotate_right_angle(grey, turn)
        votes = direction_votes(page, ink_mask(page, 300).astype(np.uint8))
        assert votes[2] >= 10, votes  # pieces found
        assert votes[winner] >= 3 * votes[1 - winner], (turn, votes)


def test_no_pieces_on_a_blank_page_or_in_a_photo() -> None:
    assert line_pieces(np.zeros((1100, 850), np.uint8)) == []
    assert line_pieces(np.ones((1100, 850), np.uint8)) == []  # all ink: no line bands
    assert direction_votes(np.full((3300, 2550), 255, np.uint8),
                           np.zeros((1100, 850), np.uint8)) == (0.0, 0.0, 0)
