"""One PP-OCR detection per page: the orientation step's detection of the text lines is
the one the reading uses (issue 18), moved with the page when it is turned or deskewed.

Real models on real generated archive pages (``dms.sample_data`` via tests/ocr/pages.py).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

from dms.settings import Settings, load_settings
from ocr_worker.engines import get_engine
from ocr_worker.orientation import turn_from_lines
from ocr_worker.pipeline import make_context, process_page
from ocr_worker.ppocr_detection import Detection, detect_lines
from ocr_worker.ppocr_engine import PpOcrEngine
from ocr_worker.ppocr_models import detector_blob, load_model
from ocr_worker.steps import rotate_right_angle
from tests.ocr.pages import CASES, crop_case, prefix_cer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(data_dir=tmp_path_factory.mktemp("var"), _env_file=None)


@pytest.fixture(scope="module")
def upright(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    return crop_case(CASES[0], tmp_path_factory.mktemp("page") / "upright.png")


def _grey(path: Path) -> np.ndarray:
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert grey is not None
    return grey


def _matched(moved: Detection, found: Detection, tol: float) -> float:
    """Share of ``moved``'s lines whose four corners, in order, lie within ``tol`` px of
    the corners of a line ``found`` on the turned page itself."""
    hits = 0
    for quad in moved.boxes:
        dist = np.abs(found.boxes - quad[None]).max(axis=(1, 2))
        hits += bool(dist.size and dist.min() <= tol)
    return hits / max(1, len(moved.boxes))


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_scan_s_detection_turned_upright_reads_the_page(
        turn: int, upright: tuple[Path, list[str]]) -> None:
    """The pipeline's case: the lines are detected on the page as scanned (turned), and
    moved onto the page turned upright. Half a turn is the same boxes exactly; a page on
    its side is detected along its lines' other axis (boxes split differently) -- read
    from them as well as from a new detection (on the generated corpus, better:
    benchmarks/scanner_bench.py)."""
    path, lines = upright
    grey = _grey(path)
    scanned = rotate_right_angle(grey, turn)
    found = detect_lines(scanned, "v5")
    correction = (360 - turn) % 360
    assert turn_from_lines(found.evidence())[0] == correction
    moved = found.turned(correction)
    assert moved.shape == grey.shape and moved.labels is None  # classified again
    if turn == 180:
        assert _matched(moved, detect_lines(grey, "v5"), tol=8) >= 0.8
    engine = get_engine("ppocr5")
    assert isinstance(engine, PpOcrEngine)
    out = engine.recognise(path, languages="chi_sim", dpi=300, timeout=120, detection=moved)
    assert out.raw.get("detection") == "reused"
    assert prefix_cer(lines, out.text) <= 0.05, out.text


def test_a_detection_warped_by_a_deskew_follows_the_lines(
        upright: tuple[Path, list[str]]) -> None:
    grey = _grey(upright[0])
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0)
    skewed = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)
    moved = detect_lines(grey, "v5").warped(m)
    assert moved.labels is not None  # a few degrees: each line keeps its direction
    assert _matched(moved, detect_lines(skewed, "v5"), tol=8) >= 0.8


def test_reading_from_the_detection_reads_what_reading_alone_reads(
        upright: tuple[Path, list[str]]) -> None:
    engine = get_engine("ppocr5")
    assert isinstance(engine, PpOcrEngine)
    path = upright[0]
    alone = engine.recognise(path, languages="chi_sim", dpi=300, timeout=120)
    reused = engine.recognise(path, languages="chi_sim", dpi=300, timeout=120,
                              detection=detect_lines(_grey(path), "v5"))
    assert reused.raw.get("detection") == "reused" and "detection" not in alone.raw
    assert reused.text == alone.text
    assert [w.text for w in reused.words] == [w.text for w in alone.words]
    # Another detector's lines are not read by this recogniser: the page is detected again.
    v4_lines = engine.recognise(path, languages="chi_sim", dpi=300, timeout=120,
                                detection=detect_lines(_grey(path), "v4"))
    assert "detection" not in v4_lines.raw and v4_lines.text == alone.text
    # A detection of another image is not used: the page is detected again.
    other = detect_lines(rotate_right_angle(_grey(path), 90), "v5")
    again = engine.recognise(path, languages="chi_sim", dpi=300, timeout=120, detection=other)
    assert "detection" not in again.raw and again.text == alone.text


@pytest.mark.parametrize("engine", ["ppocr5", "ppocr"])
@pytest.mark.parametrize("turn,skew", [(0, 0.0), (0, 2.5), (90, 0.0), (180, -2.0)])
def test_the_pipeline_detects_a_page_once(engine: str, turn: int, skew: float, tmp_path: Path,
                                          settings: Settings,
                                          upright: tuple[Path, list[str]]) -> None:
    """By default (orientation "auto") a page a PP-OCR engine reads is detected once, in
    the orientation step, whether it came upright, turned or skewed; and read as well."""
    path, lines = upright
    page = tmp_path / "page.png"
    with Image.open(path) as im:
        im.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255).rotate(
            turn, expand=True, fillcolor=255).save(page, dpi=(300, 300))
    ctx = make_context(page, settings, page_no=1, work_dir=tmp_path / "steps", engine=engine)
    assert ctx.orientation_engine == "auto"
    result = process_page(page, ctx, settings)
    assert result.rotation == turn
    assert ctx.output is not None and ctx.output.raw.get("detection") == "reused"
    assert prefix_cer(lines, result.text) <= 0.05, result.text


@pytest.mark.parametrize(("mean", "std"), [([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
                                           ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
def test_the_detector_input_is_rapidocr_s_own_in_float32(mean: list[float],
                                                          std: list[float]) -> None:
    """The float32 normalisation (0.03 CPU s a page against RapidOCR's 0.17-0.28) makes
    the tensor RapidOCR's ``DetPreProcess`` makes, to float32 rounding: for the detector
    configs RapidOCR ships (0.5 everywhere) and a per-channel one."""
    rng = np.random.default_rng(5)
    page = rng.integers(0, 256, (640, 480, 3), dtype=np.uint8)
    stock = DetPreProcess(960, "max", mean, std)
    expected = stock(page)
    got = detector_blob(stock.resize(page), stock.scale, mean, std)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_engine_s_detector_finds_the_boxes_rapidocr_finds(
        upright: tuple[Path, list[str]]) -> None:
    """The loaded model's detector (float32 input) finds the lines RapidOCR's own
    preprocessing finds, box for box."""
    model = load_model("v5")
    page = cv2.cvtColor(_grey(upright[0]), cv2.COLOR_GRAY2BGR)
    fast, _ = model.text_det(page)
    stock_preprocess = type(model.text_det).get_preprocess.__get__(model.text_det)
    ours, model.text_det.get_preprocess = model.text_det.get_preprocess, stock_preprocess
    try:
        stock, _ = model.text_det(page)
    finally:
        model.text_det.get_preprocess = ours
    assert len(fast) == len(stock) > 5
    np.testing.assert_allclose(np.asarray(fast), np.asarray(stock), atol=1.0)
