"""End-to-end page OCR with real tesseract on rendered Chinese pages."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw

from dms.errors import BadDocumentError, ExternalToolTimeout, OcrError
from dms.settings import Settings
from ocr_worker import orientation_steps as ost
from ocr_worker import steps as st
from ocr_worker.metrics import cer
from ocr_worker.pdf_assembly import assemble_searchable_pdf
from ocr_worker.pipeline import PAGE_STEPS, make_context, process_page
from ocr_worker.rasterise import pdf_text_layer, rasterise
from ocr_worker.results import PageResult
from ocr_worker.text_layer import page_images
from search.analysis import to_simplified

from .conftest import FACE_TC, LONG_LINES, SC_LINES, TC_LINES, ref_text, render, save
from .test_rasterise import LIMITS, image_pdf, text_pdf

NO_CLEAN = [st.normalise, ost.detect_orientation, st.deskew, st.recognise]
NO_DESKEW = [st.normalise, ost.detect_orientation, st.clean, st.recognise]


def ocr(img: Path, settings: Settings, steps: list[st.Step] | tuple[st.Step, ...] = PAGE_STEPS,
        *, page_no: int = 1, languages: str | None = None, **kw: object) -> PageResult:
    ctx = make_context(img, settings, page_no=page_no, languages=languages,
                       work_dir=img.parent / f"work-{img.stem}-{len(steps)}")
    return process_page(img, ctx, settings, steps=steps, **kw)  # type: ignore[arg-type]


def test_upright_page(page_png: Path, settings: Settings) -> None:
    r = ocr(page_png, settings)
    assert r.rotation == 0 and r.skew == 0.0
    assert cer(ref_text(SC_LINES), r.text) < 0.05
    assert "GDHT-2024-000123" in r.text
    assert "供用电合同" in r.text  # no spaces between Chinese characters
    assert r.mean_confidence > 80 and not r.needs_review
    assert set(r.timings) == {s.__name__ for s in PAGE_STEPS}
    assert r.page_pdf.exists() and r.processed_image.exists()
    assert all(w.bbox[0] < w.bbox[2] and w.bbox[1] < w.bbox[3] for w in r.words)
    assert PageResult.from_dict(r.to_dict()) == r


@pytest.mark.slow
@pytest.mark.parametrize("turned", [90, 180, 270])
def test_rotation_recovered(tmp_path: Path, page_image: Image.Image, settings: Settings,
                            turned: int) -> None:
    # PIL turns counter-clockwise, so the page needs `turned` degrees clockwise back.
    img = save(page_image.rotate(turned, expand=True, fillcolor=255), tmp_path / "turned.png")
    r = ocr(img, settings)
    assert r.rotation == turned
    assert cer(ref_text(SC_LINES), r.text) < 0.05
    with Image.open(r.processed_image) as im:
        assert im.size == page_image.size  # upright again


@pytest.mark.slow
def test_skew_recovered(tmp_path: Path, settings: Settings) -> None:
    page = render(LONG_LINES, size=42, width=2300, line_gap=80)
    img = save(page.rotate(-3, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC),
               tmp_path / "skewed.png")
    fixed = ocr(img, settings)
    raw = ocr(img, settings, NO_DESKEW)
    assert abs(fixed.skew - 3.0) <= 0.3  # turned clockwise by 3°, deskew turns back CCW
    ref = ref_text(LONG_LINES)
    assert cer(ref, fixed.text) <= 0.02
    assert cer(ref, fixed.text) < cer(ref, raw.text)


@pytest.mark.slow
def test_clean_removes_speckle_noise(tmp_path: Path, settings: Settings,
                                     noisy: Callable[[Image.Image, float], Image.Image]) -> None:
    img = save(noisy(render(SC_LINES), 0.03), tmp_path / "noisy.png")
    cleaned = ocr(img, settings)
    raw = ocr(img, settings, NO_CLEAN)
    assert cleaned.notes["clean"]["denoised"] is True
    assert cer(ref_text(SC_LINES), cleaned.text) <= cer(ref_text(SC_LINES), raw.text)
    assert cer(ref_text(SC_LINES), cleaned.text) < 0.05


def test_clean_leaves_clean_page_alone(page_png: Path, settings: Settings) -> None:
    ctx = make_context(page_png, settings, page_no=1, work_dir=page_png.parent / "w")
    assert st.clean(page_png, ctx) == page_png


def test_traditional_chinese(tmp_path: Path, settings: Settings) -> None:
    img = save(render(TC_LINES, face=FACE_TC), tmp_path / "tc.png")
    r = ocr(img, settings, [st.normalise, st.recognise], languages="chi_tra")
    assert cer(ref_text(TC_LINES), r.text) < 0.1
    assert "臺灣電力公司" in r.text


def test_blank_page_needs_review(tmp_path: Path, settings: Settings) -> None:
    img = save(Image.new("L", (1200, 800), 255), tmp_path / "blank.png")
    r = ocr(img, settings, existing_text="供用电合同 合同编号 GDHT-2024-000123 用电地址")
    assert r.needs_review
    assert r.notes["review_reasons"] == ["low_confidence", "almost_no_text",
                                         "existing_text_layer_may_be_better"]


def test_page_timeout_is_real(page_png: Path, settings: Settings) -> None:
    ctx = make_context(page_png, settings, page_no=1, work_dir=page_png.parent / "w")
    ctx.deadline = 0.0  # budget spent: the next tool call must not even start
    with pytest.raises(ExternalToolTimeout):
        process_page(page_png, ctx, settings)


def test_restart_after_a_step_the_list_lacks_is_a_clear_error(page_png: Path,
                                                              settings: Settings) -> None:
    # confirm_orientation restarts "after detect_orientation"; an experiment's step list
    # without that step must say so, not end in a bare StopIteration.
    def turns_back(src: Path, ctx: st.PageContext) -> Path:
        ctx.restart = (src, "detect_orientation")
        return src

    with pytest.raises(OcrError, match="turns_back.*detect_orientation"):
        ocr(page_png, settings, [st.normalise, st.recognise, turns_back])


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()


@pytest.mark.slow
def test_image_pdf_to_searchable_pdf(tmp_path: Path, page_image: Image.Image,
                                     settings: Settings) -> None:
    src = image_pdf(tmp_path / "scan.pdf", [page_image, page_image.rotate(180)])
    original = src.read_bytes()
    pages = rasterise(src, tmp_path / "pages", **LIMITS)  # type: ignore[arg-type]
    results = [ocr(p, settings, page_no=i) for i, p in enumerate(pages, 1)]
    assert [r.rotation for r in results] == [0, 180]
    out = assemble_searchable_pdf([r.page_pdf for r in results], tmp_path / "out.pdf",
                                  title="供用电合同")
    assert src.read_bytes() == original  # the original is never modified
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert str(pdf.docinfo["/Producer"]) == "dms"
        assert str(pdf.docinfo["/Title"]) == "供用电合同"
    layer = pdftotext(out).split("\f")
    for r, text in zip(results, layer, strict=False):
        # The invisible layer is the OCR text: heavy overlap, spacing aside.
        assert cer(r.text, text) < 0.15
        assert cer(ref_text(SC_LINES), text) < 0.15
    assert not list(tmp_path.glob(".out.pdf.*"))  # no temp file left


@pytest.mark.slow
def test_pdf_with_text_layer(tmp_path: Path, settings: Settings) -> None:
    """Decision: OCR the rendered page anyway and keep the PDF's own text alongside."""
    src = text_pdf(tmp_path / "digital.pdf", SC_LINES)
    existing = pdf_text_layer(src)
    (page,) = rasterise(src, tmp_path / "pages", **LIMITS)  # type: ignore[arg-type]
    r = ocr(page, settings, [st.normalise, st.deskew, st.recognise], existing_text=existing[0])
    assert r.existing_text is not None and "GDHT-2024-000123" in r.existing_text
    assert cer(ref_text(SC_LINES), r.text) < 0.1  # STSong renders differently from Noto
    assert not r.needs_review


def test_corrupt_page_image(tmp_path: Path, page_png: Path, settings: Settings) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(page_png.read_bytes()[:300])
    with pytest.raises(BadDocumentError, match="corrupt page image"):
        ocr(bad, settings)


@pytest.mark.slow
def test_grid_aligned_page_is_read_upright_in_one_try(tmp_path: Path,
                                                      settings: Settings) -> None:
    # Repeated fixed-pitch CJK lines: the column profile is as jagged as the row profile,
    # which fooled an edge-based axis score into turning an upright page by 90°.
    img = save(render(LONG_LINES * 3, size=42, width=2300, line_gap=80), tmp_path / "grid.png")
    crop_reads = settings.model_copy(update={"ocr_orientation_engine": "tesseract"})
    r = ocr(img, crop_reads, [st.normalise, ost.detect_orientation, st.recognise])
    assert r.rotation == 0
    assert list(r.notes["orientation_conf"]) == ["0"]  # the axis guess put upright first
    assert cer(ref_text(LONG_LINES * 3), r.text) < 0.05
    # ``auto`` with tesseract reading: no crop read at all, the page's reading confirms.
    r = ocr(img, settings, [st.normalise, ost.detect_orientation, st.recognise,
                            ost.confirm_orientation])
    assert r.rotation == 0 and "orientation_conf" not in r.notes
    assert r.notes["orientation"] == "0, by the direction vote and the page's reading"


@pytest.mark.slow
@pytest.mark.parametrize("turned", [0, 180])
def test_traditional_page_orientation(tmp_path: Path, settings: Settings, turned: int) -> None:
    # Orientation crops are read in chi_sim alone; an upright Traditional page must still be
    # accepted on its first read (no second, upside-down read), and a turned one recovered.
    page = render(TC_LINES * 4, face=FACE_TC)
    img = save(page.rotate(turned, expand=True, fillcolor=255), tmp_path / "tc.png")
    r = ocr(img, settings, [st.normalise, ost.detect_orientation, st.recognise,
                            ost.confirm_orientation])
    assert r.rotation == turned
    v0, v180, _ = r.notes["direction_votes"]  # PP-OCR's direction classifier, line pieces
    assert (v0 > 3 * v180) if turned == 0 else (v180 > 3 * v0)
    assert "orientation_conf" not in r.notes  # no crop read: the page's reading confirmed
    # read right way up (which script the few lines come out in is test_traditional_*'s job)
    assert cer(to_simplified(ref_text(TC_LINES * 4)), to_simplified(r.text)) < 0.1


@pytest.mark.slow
@pytest.mark.parametrize("turned", [90, 270])
def test_sideways_page_turned_by_the_vote(tmp_path: Path, settings: Settings,
                                          turned: int) -> None:
    img = save(render(SC_LINES * 3).rotate(turned, expand=True, fillcolor=255),
               tmp_path / "side.png")
    r = ocr(img, settings, PAGE_STEPS)
    assert r.rotation == turned and "orientation_conf" not in r.notes  # clockwise
    assert cer(ref_text(SC_LINES * 3), r.text) < 0.1


def test_a_wrong_vote_is_undone_by_the_pages_reading(tmp_path: Path, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the classifier vote clearly wrong, the page's reading is not surely upright:
    crop reads find the turn and the steps after orientation run again on that page."""
    monkeypatch.setattr(ost, "direction_votes", lambda *a: (0.0, 24.0, 24))  # "upside down"
    img = save(render(SC_LINES * 3), tmp_path / "upright.png")
    r = ocr(img, settings, PAGE_STEPS)
    assert r.rotation == 0, r.notes
    assert r.notes["orientation"] == "turned 0 after the page's reading"
    assert cer(ref_text(SC_LINES * 3), r.text) < 0.05


@pytest.mark.parametrize(("mode", "name"), [("RGB", "colour.jpg"), ("1", "bilevel.png")])
def test_scan_goes_into_the_page_pdf_as_it_is(tmp_path: Path, page_image: Image.Image,
                                              settings: Settings, mode: str, name: str) -> None:
    # An upright, clean scan needs no new image: tesseract reads the file and the page
    # PDF embeds it byte for byte -- a colour scan keeps its colour (a red seal stays red).
    scan = page_image.convert("RGB")
    ImageDraw.Draw(scan).ellipse((1300, 60, 1500, 260), outline=(220, 20, 20), width=8)
    img = save(scan.convert(mode) if mode != "RGB" else scan, tmp_path / name)
    r = ocr(img, settings)
    assert r.processed_image == img and r.rotation == 0 and r.skew == 0.0
    with pikepdf.open(r.page_pdf) as pdf:
        [xobject] = page_images(pdf.pages[0])
        assert xobject.read_raw_bytes() in img.read_bytes()
        assert xobject.ColorSpace == ("/DeviceRGB" if mode == "RGB" else "/DeviceGray")
    assert cer(ref_text(SC_LINES), r.text) < 0.05
