"""PP-OCR reads each text line with its paper made white (ocr_worker/ppocr_lines.py)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dms.sample_data.hard import HardPage, save_hard_page
from dms.settings import Settings, load_settings
from ocr_worker.metrics import cer
from ocr_worker.pipeline import make_context, process_page
from ocr_worker.ppocr_models import load_model
from ocr_worker.ppocr_lines import OnWhitePaper, on_white_paper


def _line(paper: int, ink: int, noise: float, seed: int = 3) -> np.ndarray:
    """A BGR strip of 'paper' with three dark strokes, grain of ``noise`` grey levels."""
    g = np.full((40, 200), paper, np.float32)
    for x in (30, 90, 150):
        g[8:32, x:x + 4] = ink
    g += np.random.default_rng(seed).normal(0, noise, g.shape)
    return cv2.cvtColor(np.clip(g, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def test_grey_grainy_paper_turns_white_and_the_ink_keeps_its_greys() -> None:
    line = _line(paper=215, ink=60, noise=6)
    out = on_white_paper(line)
    assert out.shape == line.shape and out.dtype == np.uint8
    grey_in = cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    grey_out = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    paper = np.ones(grey_in.shape, bool)
    for x in (30, 90, 150):
        paper[6:34, x - 2:x + 6] = False
    assert (grey_out[paper] == 255).all()
    strokes = grey_in < 120
    assert np.array_equal(grey_out[strokes], grey_in[strokes])


def test_lines_on_white_paper_and_white_on_dark_are_read_as_cut() -> None:
    white = _line(paper=255, ink=40, noise=0)
    assert on_white_paper(white) is white  # a bilevel scan's line: nothing to clean
    dark = 255 - _line(paper=215, ink=60, noise=6)  # light text on a dark band
    assert on_white_paper(dark) is dark
    empty = np.zeros((0, 10, 3), np.uint8)
    assert on_white_paper(empty) is empty


def test_grey_lines_stay_grey() -> None:
    line = cv2.cvtColor(_line(paper=210, ink=50, noise=5), cv2.COLOR_BGR2GRAY)
    out = on_white_paper(line)
    assert out.ndim == 2 and out.max() == 255


@pytest.mark.slow
def test_pp_ocr_v5_reads_through_it_and_v4_does_not() -> None:
    assert isinstance(load_model("v5").text_rec, OnWhitePaper)
    assert not isinstance(load_model("v4").text_rec, OnWhitePaper)


@pytest.fixture()
def default_settings(tmp_path: Path) -> Settings:
    # the deployment's defaults (engine ppocr5), not tests/ocr's tesseract settings
    return load_settings(data_dir=tmp_path / "var", _env_file=None)


@pytest.mark.slow
def test_a_compressed_contract_keeps_its_simple_characters(
        tmp_path: Path, default_settings: Settings) -> None:
    """A supply contract scanned at 300 dpi and stored as JPEG quality 13 (the hard
    corpus's heavy_jpeg). Main read every line without its 人, 一, 用, 力 and 方 (人 0 of 13
    on the page, CER 0.109) at line confidences of 0.97-0.999, so nothing flagged it."""
    page = HardPage("GYDHT", 8370, 1, "heavy_jpeg", dpi=300, skew=-0.4, jpeg_quality=13)
    path, lines = save_hard_page(page, tmp_path / "page")
    ctx = make_context(path, default_settings, page_no=1, work_dir=tmp_path / "work")
    r = process_page(path, ctx, default_settings)
    truth = "\n".join(lines)
    assert truth.count("人") >= 10
    assert r.text.count("人") >= truth.count("人") - 2, r.text[:300]
    assert r.text.count("一") >= truth.count("一") - 1, r.text[:300]
    assert cer(truth, r.text) <= 0.03
