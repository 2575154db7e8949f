"""Real page images for the engine tests: generated archive pages (dms.sample_data), cropped
to their top part so that one OCR run stays short, with the rendered text as reference."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dms.sample_data import render_document
from ocr_worker.metrics import cer


@dataclass(frozen=True)
class PageCase:
    name: str
    doc_type: str
    seed: int
    script: str = "simplified"
    rotation: int = 0  # counter-clockwise, applied to the crop (PIL convention, as truth)


# Checked once with dms.sample_data: the layout and script each case is named after.
CASES = [
    PageCase("upright", "YDSQS", 1),
    PageCase("rotated", "BGSQ", 4, rotation=90),
    PageCase("traditional", "BGSQ", 1, script="traditional"),
    PageCase("table_form", "KCD", 3),
]


def _blank_row_near(grey: np.ndarray, target: int) -> int:
    """The blank pixel row closest below ``target``: cutting there splits no text line."""
    ink = (grey < 128).sum(axis=1)
    for y in range(target, grey.shape[0]):
        if ink[y] == 0:
            return y
    return grey.shape[0]


def crop_case(case: PageCase, out: Path, *, share: float = 0.3) -> tuple[Path, list[str]]:
    """The top ``share`` of the case's first page (cut on a blank row), turned by
    ``case.rotation``, saved as a 300-dpi PNG; and the page's rendered text lines."""
    doc = render_document(case.doc_type, seed=case.seed, script=case.script, noise="light")
    page = doc.pages[0].convert("L")
    grey = np.asarray(page)
    bottom = _blank_row_near(grey, int(grey.shape[0] * share))
    crop = page.crop((0, 0, page.width, bottom))
    if case.rotation:
        crop = crop.rotate(case.rotation, expand=True, fillcolor=255)
    crop.save(out, dpi=(300, 300))
    return out, doc.truth[0].lines


def prefix_cer(lines: list[str], hyp: str) -> float:
    """CER of ``hyp`` against the best prefix of the reference lines: a crop of the top of
    a page holds the first lines in reading order, and we do not know how many."""
    return min(cer("\n".join(lines[:k]), hyp) for k in range(1, len(lines) + 1))
