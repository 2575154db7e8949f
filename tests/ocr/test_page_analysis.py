"""One ink analysis per page (issue 18): the orientation step measures the page's ink mask
and skew once, deskew turns them with the page instead of measuring again, and the
direction vote stops classifying when its fullest pieces already agree.

Real pages from the sample generator, real tesseract / PP-OCR direction classifier.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dms.sample_data import render_document
from dms.settings import load_settings
from ocr_worker import line_direction
from ocr_worker import orientation_steps as ost
from ocr_worker import steps as st
from ocr_worker.pipeline import make_context
from ocr_worker.ppocr_models import load_model

pytestmark = pytest.mark.slow


def test_the_mask_and_skew_turn_with_the_page() -> None:
    rng = np.random.default_rng(3)
    mask = (rng.random((50, 30)) < 0.1).astype(np.uint8)
    analysis = st.InkAnalysis(mask, rotation=0, skew=1.3, skew_rotation=0)
    for turn in (0, 90, 180, 270):
        assert np.array_equal(analysis.mask_at(turn), st.rotate_right_angle(mask, turn))
    # The lines run the same way upside down; a quarter turn makes them another axis.
    assert analysis.skew_at(180) == 1.3
    assert analysis.skew_at(90) is None and analysis.skew_at(270) is None
    sideways = st.InkAnalysis(mask, rotation=0, skew=-2.0, skew_rotation=90)
    assert sideways.skew_at(270) == -2.0 and sideways.skew_at(0) is None


@pytest.mark.parametrize(("rotation", "skew"), [(0, 2.0), (90, -1.5), (180, 3.0)])
def test_deskew_after_orientation_finds_the_skew_of_the_turned_page(
        rotation: int, skew: float, tmp_path: Path) -> None:
    """The skew deskew takes from the orientation step's analysis is the one it finds by
    measuring the turned page itself."""
    doc = render_document("GYDHT", seed=4, rotation=rotation, skew=skew)
    path = tmp_path / "page.png"
    doc.pages[0].convert("L").save(path, dpi=(300, 300))
    settings = load_settings(data_dir=tmp_path / "var", _env_file=None,
                             ocr_engine="tesseract", ocr_languages="chi_sim+chi_tra+eng")
    ctx = make_context(path, settings, page_no=1, work_dir=tmp_path / "work")
    current = path
    for step in (st.normalise, st.clean, ost.detect_orientation):
        current = step(current, ctx)
    assert ctx.analysis is not None
    turned = ctx.grey(current)
    measured, _ = st.skew_angle(st.ink_mask(turned, ctx.dpi))
    st.deskew(current, ctx)
    assert abs(ctx.skew - measured) <= 0.2, (ctx.rotation, ctx.skew, measured)
    assert abs(abs(ctx.skew) - abs(skew)) <= 0.5, (ctx.skew, skew)


@pytest.mark.parametrize("turn", [0, 180])
def test_a_clear_page_is_voted_on_its_fullest_pieces_only(
        turn: int, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = render_document("GYDHT", seed=3)
    grey = st.rotate_right_angle(np.asarray(doc.pages[0].convert("L")), turn)
    model = load_model(line_direction.DIRECTION_MODELS)
    classified: list[int] = []
    stock = model.text_cls

    def counting(crops: list[Any]) -> Any:
        classified.append(len(crops))
        return stock(crops)

    monkeypatch.setattr(model, "text_cls", counting)
    v0, v180, found = line_direction.direction_votes(
        grey, st.ink_mask(grey, 300).astype(np.uint8))
    assert found > line_direction.FIRST_PIECES
    assert classified == [line_direction.FIRST_PIECES]
    won, lost = (v0, v180) if turn == 0 else (v180, v0)
    assert won >= line_direction.SURE_VOTES and lost < 1.0
