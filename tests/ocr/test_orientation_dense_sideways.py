"""A page of the project's own sample corpus (`dms up`'s sample, seed 1): a dense two-page
supply contract scanned sideways (turned 270, skew -3.3). PP-OCR's detector merges the
characters of neighbouring columns into horizontal boxes, so the text lines "show" an
upright page; read upright, the page came out in reverse line order with no line breaks,
at confidence 99.5, unflagged. The crop reads say 270 decisively (77.6 against 8.5-15.1):
with orientation `auto` (the default) and with tesseract's crop reads, the page is turned."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dms.sample_data.corpus as corpus
from dms.sample_data import render_document
from dms.settings import Settings, load_settings
from ocr_worker.metrics import cer
from ocr_worker.pipeline import make_context, process_page

pytestmark = pytest.mark.slow

STEM = "3738605467_邹娟/210507841709_低压居民新装/05_GYDHT"


@pytest.fixture(scope="module")
def sideways_contract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    jobs: list[Any] = []
    original = corpus._run
    corpus._run = lambda job, root: jobs.append(job) or []  # type: ignore[assignment]
    try:  # the corpus's own job for that file: its customer, business, turn and skew
        corpus.generate_corpus(tmp_path_factory.mktemp("jobs"), customers=6, seed=1, workers=1)
    finally:
        corpus._run = original  # type: ignore[assignment]
    (job,) = [j for j in jobs if j.rel_stem == STEM]
    assert (job.rotation, job.skew) == (270, -3.31)
    doc = render_document(job.doc_type, seed=job.seed, script=job.script,
                          customer=job.customer, rotation=job.rotation, skew=job.skew,
                          noise=job.noise, business=job.business)
    path = tmp_path_factory.mktemp("page") / "page.png"
    doc.pages[0].convert("L").save(path, dpi=(300, 300))
    return path, doc.truth[0].text


# ("auto", "tesseract"): tesseract reads the page and, when the page's lines run across,
# its own reading stands in for the crop reads (orientation_steps.confirm_orientation).
@pytest.mark.parametrize(("method", "engine"), [("auto", "ppocr5"), ("tesseract", "ppocr5"),
                                                ("auto", "tesseract")])
def test_dense_sideways_page_is_turned(method: str, engine: str, tmp_path: Path,
                                       sideways_contract: tuple[Path, str]) -> None:
    path, truth = sideways_contract
    settings: Settings = load_settings(data_dir=tmp_path / "var", _env_file=None,
                                       ocr_orientation_engine=method, ocr_engine=engine,
                                       ocr_languages="chi_sim+chi_tra+eng")
    ctx = make_context(path, settings, page_no=1, work_dir=tmp_path / "work")
    result = process_page(path, ctx, settings)
    assert result.rotation == 270, result.notes
    assert result.text.startswith("供用电合同"), result.text[:200]
    assert cer(truth, result.text) < 0.1


def test_upright_page_needs_no_crop_read(tmp_path: Path) -> None:
    """The same contract upright: the detected lines, the row profile and the direction
    vote agree, so no crop read confirms them (``orientation.lines_confirmed_by_rows``);
    the sideways page above, where the row profile disagrees, is still crop-read."""
    doc = render_document("GYDHT", seed=1)
    path = tmp_path / "upright.png"
    doc.pages[0].convert("L").save(path, dpi=(300, 300))
    settings = load_settings(data_dir=tmp_path / "var", _env_file=None)
    result = process_page(path, make_context(path, settings, page_no=1,
                                             work_dir=tmp_path / "work"), settings)
    assert result.rotation == 0 and result.notes["orientation"] == "upright"
    assert "orientation_conf" not in result.notes, result.notes
    assert cer(doc.truth[0].text, result.text) < 0.1
