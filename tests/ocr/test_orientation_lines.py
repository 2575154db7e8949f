"""Page orientation, by crop reads (the default) and by text lines: sparse and faint pages
are not turned when upright, and are found in each of their four turns.

The pages are real generated archive pages (``dms.sample_data``): a contract's signing page
(a few fields and signatures), an ID-card copy (two small cards), and a form made faint and
bilevel (light toner, thresholded by the scanner, strokes broken). A crop read -- the old
default -- judges such pages on a few noisy characters; the line geometry and the direction
classifier's vote over every line do not depend on reading them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dms.sample_data import render_document
from dms.settings import Settings, load_settings
from ocr_worker.orientation import LineEvidence, turn_from_lines
from ocr_worker.pipeline import make_context
from ocr_worker.orientation_steps import detect_orientation
from ocr_worker.steps import normalise


def _signing_page() -> Image.Image:
    doc = render_document("GYDHT", seed=7, noise="light")
    return doc.pages[-1].convert("L")


def _id_card_copy() -> Image.Image:
    return render_document("SFZM", seed=3, noise="light").pages[0].convert("L")


def _faint_bilevel() -> Image.Image:
    """Light toner (ink at ~70% white), thresholded as a bilevel scanner does, with a
    speckle of lost pixels in the strokes."""
    grey = np.asarray(render_document("YDSQS", seed=2, noise="light").pages[0].convert("L"))
    faint = 255 - (255 - grey.astype(np.float32)) * 0.3
    rng = np.random.default_rng(5)
    lost = rng.random(grey.shape) < 0.25
    bilevel = np.where((faint < 215) & ~lost, 0, 255).astype(np.uint8)
    return Image.fromarray(bilevel).convert("1")


PAGES = {"signing_page": _signing_page, "id_card_copy": _id_card_copy,
         "faint_bilevel": _faint_bilevel}


@pytest.fixture(scope="module")
def default_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(data_dir=tmp_path_factory.mktemp("var"), _env_file=None)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["tesseract", "lines"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_sparse_and_faint_pages_turned_right_in_all_four_turns(
        name: str, method: str, tmp_path: Path, default_settings: Settings) -> None:
    settings = default_settings.model_copy(update={"ocr_orientation_engine": method})
    upright = PAGES[name]()
    for turn in (0, 90, 180, 270):
        page = tmp_path / f"{name}-{turn}.png"
        # PIL turns counter-clockwise; the step reports the clockwise turn that undoes it.
        upright.rotate(turn, expand=True, fillcolor=255).save(page, dpi=(300, 300))
        ctx = make_context(page, settings, page_no=1, work_dir=tmp_path / f"w{turn}")
        detect_orientation(normalise(page, ctx), ctx)
        assert ctx.rotation == turn, (name, turn, ctx.notes)


def test_upright_is_kept_unless_another_turn_wins_clearly() -> None:
    # Nothing detected, or a couple of uncertain lines: the page stays as it is.
    assert turn_from_lines(LineEvidence(0, 0, 0, 0, 0))[0] == 0
    assert turn_from_lines(LineEvidence(300, 0, 0.6, 0.9, 2))[0] == 0
    # Upside down only by a clear majority of the classifier's votes.
    assert turn_from_lines(LineEvidence(3000, 0, 6.0, 9.0, 15))[0] == 0
    assert turn_from_lines(LineEvidence(3000, 0, 1.0, 14.0, 15))[0] == 180
    # A few vertical labels on an upright form do not make it sideways.
    assert turn_from_lines(LineEvidence(3000, 900, 15.0, 0.0, 20))[0] == 0
    # Sideways: the classifier's majority picks which quarter turn.
    assert turn_from_lines(LineEvidence(480, 3000, 0.0, 24.0, 29))[0] == 90
    assert turn_from_lines(LineEvidence(480, 3000, 23.0, 0.0, 28))[0] == 270
