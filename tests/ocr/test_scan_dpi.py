"""The page steps at a scanner's 200 dpi decide as they do at 300: turn, skew, noise."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from dms.settings import Settings
from ocr_worker.metrics import cer
from ocr_worker.pipeline import make_context, process_page
from ocr_worker.results import PageResult

from .conftest import LONG_LINES, ref_text, render

pytestmark = pytest.mark.slow


def at_dpi(page: Image.Image, dpi: int) -> Image.Image:
    """The 300-dpi rendering as a scanner at ``dpi`` would have sampled it."""
    if dpi == 300:
        return page
    return page.resize((round(page.width * dpi / 300), round(page.height * dpi / 300)),
                       Image.Resampling.LANCZOS)


def read(page: Image.Image, dpi: int, tmp_path: Path, settings: Settings) -> PageResult:
    # JPEG as a scanner writes it, its DPI known from the PDF page (the file says 72).
    img = tmp_path / f"scan-{dpi}.jpg"
    page.save(img, quality=85, dpi=(72, 72))
    ctx = make_context(img, settings, page_no=1, work_dir=tmp_path / f"w{dpi}")
    ctx.dpi, ctx.dpi_known = dpi, True
    return process_page(img, ctx, settings)


@pytest.mark.parametrize(("rotation", "skew"), [(90, 2.0), (180, -1.5)])
def test_turned_skewed_noisy_page_at_200_and_300_dpi(
        tmp_path: Path, settings: Settings, rotation: int, skew: float,
        noisy: Callable[[Image.Image, float], Image.Image]) -> None:
    clean = render(LONG_LINES * 2, size=42, width=2300, line_gap=80)
    page = noisy(clean.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True,
                              fillcolor=255), 0.02)
    page = page.rotate(-rotation, expand=True)  # fed turned: clockwise by ``rotation``
    results = {dpi: read(at_dpi(page, dpi), dpi, tmp_path, settings) for dpi in (300, 200)}
    for dpi, r in results.items():
        assert r.dpi == dpi  # the DPI told to the engine is the scan's, not the file's 72
        assert (360 - r.rotation) % 360 == rotation, (dpi, r.rotation)
        assert abs(r.skew + skew) < 0.4 or abs(r.skew - skew) < 0.4, (dpi, r.skew)
        assert r.notes["clean"]["denoised"], (dpi, r.notes["clean"])
    c300 = cer(ref_text(LONG_LINES * 2), results[300].text)
    c200 = cer(ref_text(LONG_LINES * 2), results[200].text)
    assert c300 < 0.1 and c200 < 0.1, (c300, c200)
