"""Per-page OCR steps. Each is ``(src: Path, ctx: PageContext) -> Path``: it reads one image,
makes a new one in ``ctx.work_dir`` and records what it found on ``ctx``. The orchestrator
(:mod:`ocr_worker.pipeline`) sequences them; steps never call each other. The orientation
steps, the largest, are in :mod:`ocr_worker.orientation_steps`.

Images pass between steps in memory: ``ctx.keep`` names a new image by its work path
without encoding it, ``ctx.grey`` reads one (from memory when it was kept), and
``ctx.file`` writes it when a program needs the file. A profile of 16 pages had PNG
encoding and decoding between the steps at 0.65 s per page, more than all the geometry.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image

from errorkit import BadDocumentError, OcrError
from ocr_worker.despeckle import despeckle_bilevel
from ocr_worker.engine_api import EngineOutput, OcrEngine
from ocr_worker.engines import get_engine
from ocr_worker.han_script import harmonise
from ocr_worker.pdf_image import replace_scan
from ocr_worker.ppocr_detection import Detection
from ocr_worker.ppocr_engine import PpOcrEngine
from ocr_worker.ppocr_models import ENGINE_MODELS
from ocr_worker.rasterise import _to_grey, image_dpi
from ocr_worker.text_layer import relayer_page_pdf

# Scale images to this resolution for the geometric estimates: text lines stay several
# pixels tall, and projecting the ink for 30 candidate angles costs milliseconds.
_ANALYSIS_DPI = 100


# Work files (the pixels an engine reads, one page's life) are PGM: an A4 page at 300 dpi
# is written in 0.003 s, where PNG took 0.30 s at zlib level 1 and still 0.18 s at level 0
# (the row filters), 5% of a tesseract worker's CPU (py-spy over scanner_bench's pages).
# No page PDF embeds them: the engines draw the scan as stored under their text
# (``under``), so their size does not matter.
WORK_SUFFIX = ".pgm"


@dataclass
class InkAnalysis:
    """The ink mask of a page at the analysis resolution (:func:`ink_mask`, 1 = ink), as
    the page lay when it was made (``rotation``, clockwise degrees, as ``ctx.rotation``
    then), and the skew found on it with the page turned to ``skew_rotation`` (a page's
    lines run the same way at r and r + 180, so the angle holds for both). The steps
    after orientation turn the mask instead of measuring the turned page again: the mask
    and the skew search were made twice a page, ~0.02 CPU s (scanner_bench, tesseract)."""

    mask: np.ndarray
    rotation: int = 0
    skew: float | None = None
    skew_rotation: int = 0

    def mask_at(self, rotation: int) -> np.ndarray:
        """The mask of the page turned to ``rotation``."""
        return rotate_right_angle(self.mask, (rotation - self.rotation) % 360)

    def skew_at(self, rotation: int) -> float | None:
        """The skew of the page turned to ``rotation``, if it was measured on that axis."""
        if self.skew is None or (rotation - self.skew_rotation) % 180:
            return None
        return self.skew


@dataclass
class PageContext:
    work_dir: Path
    page_no: int
    languages: str
    dpi: int
    timeout: float  # seconds for the whole page; tools get what is left
    engine: str = "tesseract"
    # How the page orientation is judged (below): "lines" (text-line geometry and PP-OCR's
    # direction classifier), or the engine whose block-layout reading of a crop judges it
    # ("tesseract", "ppocr"); need not be the one that recognises:
    # settings.ocr_orientation_engine.
    orientation_engine: str = "tesseract"
    traditional_variant: str = "s2t"  # settings.ocr_traditional_variant
    low_confidence: float = 60.0  # settings.ocr_low_confidence: below it a reading is poor
    # The DPI came from the source (a PDF's page size): it wins over the image file's own
    # tag, which a JPEG taken out of a PDF often has wrong (JFIF's 72 or 1).
    dpi_known: bool = False
    source_image: Path | None = None  # the page image as given to normalise
    # What the steps found, filled in as they run:
    rotation: int = 0  # clockwise degrees applied
    skew: float = 0.0  # correcting rotation deskew applied, degrees counter-clockwise
    notes: dict[str, Any] = field(default_factory=dict)
    output: EngineOutput | None = None
    recognised_image: Path | None = None  # the image the engine read (for the text layer)
    # The text lines a PP-OCR engine's detector found while judging the orientation,
    # moved with the page by the turn and deskew: the recognise step reads them instead
    # of detecting again (half of PP-OCR's cost per page).
    detection: Detection | None = field(default=None, repr=False)
    # The page as orientation saw it, when orientation was left to the page's reading
    # (confirm_orientation), and the image and step the orchestrator restarts from when
    # that reading shows the page turned.
    orientation_pending: Path | None = None
    restart: tuple[Path, str] | None = None
    # The page's ink at the analysis resolution, measured once (by the orientation step)
    # and reused by deskew: see :class:`InkAnalysis`.
    analysis: InkAnalysis | None = field(default=None, repr=False)
    deadline: float = field(init=False)
    # Images made by the steps and not yet (or never) written: work path -> grey pixels.
    kept: dict[Path, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.deadline = time.monotonic() + self.timeout

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def out_path(self, step: str, suffix: str = WORK_SUFFIX) -> Path:
        return self.work_dir / f"p{self.page_no:04d}-{step}{suffix}"

    def get_engine(self) -> OcrEngine:
        return get_engine(self.engine)

    def keep(self, grey: np.ndarray, path: Path) -> Path:
        """Name ``grey`` ``path`` for the next step; written only if :meth:`file` asks."""
        self.kept[path] = grey
        return path

    def grey(self, path: Path) -> np.ndarray:
        kept = self.kept.get(path)
        return kept if kept is not None else load_grey(path)

    def file(self, path: Path) -> Path:
        """``path`` on disk, for a program that reads files (the OCR engine)."""
        kept = self.kept.get(path)
        if kept is not None and not path.exists():
            save_grey(kept, path, self.dpi)
        return path


class Step(Protocol):
    __name__: str

    def __call__(self, src: Path, ctx: PageContext) -> Path: ...


# --- image helpers ------------------------------------------------------------------


def load_grey(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(_to_grey(im))
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"corrupt page image {path.name}: {exc}") from exc




def save_grey(arr: np.ndarray, path: Path, dpi: int) -> Path:
    """``arr`` written to ``path`` in the format its suffix names (PNG with ``dpi``)."""
    image = Image.fromarray(arr)
    if path.suffix == ".png":
        image.save(path, dpi=(dpi, dpi), compress_level=1)
    else:
        image.save(path)
    return path


def ink_mask(grey: np.ndarray, dpi: int) -> np.ndarray:
    """Binary text mask (1 = ink) downscaled to the analysis resolution."""
    scale = min(1.0, _ANALYSIS_DPI / max(dpi, 1))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, mask = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask.astype(np.float32)


def profile_score(rows: np.ndarray, width: int) -> float:
    """How strongly ink forms horizontal lines: squared differences of the row profile,
    normalised by total ink so images of different density compare."""
    total = float(rows.sum())
    if total <= 0:
        return 0.0
    return float((np.diff(rows) ** 2).sum()) / (total * total) * width


def rotated_rows(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, int],
                 angle: float) -> np.ndarray:
    """Row profile of the ink points turned by ``angle`` degrees (counter-clockwise, about
    the centre, as ``cv2.getRotationMatrix2D``), points turned out of the frame dropped.

    Projecting the ink points costs a fifth of rotating the mask image for every candidate
    angle (measured: 0.16 s per page for the 30 angles of the search, with warpAffine)."""
    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rows = np.rint(m[1, 0] * xs + m[1, 1] * ys + m[1, 2]).astype(np.int32)
    cols = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    inside = (rows >= 0) & (rows < h) & (cols > -0.5) & (cols < w - 0.5)
    return np.bincount(rows[inside], minlength=h).astype(np.float64)


def best_angle(points: tuple[np.ndarray, np.ndarray], shape: tuple[int, int], lo: float,
               hi: float, step: float) -> tuple[float, float]:
    best = (0.0, -1.0)
    xs, ys = points
    for a in np.arange(lo, hi + step / 2, step):
        s = profile_score(rotated_rows(xs, ys, shape, float(a)), shape[1])
        if s > best[1]:
            best = (float(a), s)
    return best


def skew_angle(mask: np.ndarray, limit: float = 5.0) -> tuple[float, float]:
    """(angle, score): coarse 0.5° search over ±limit, then 0.1° around the winner."""
    ys, xs = np.nonzero(mask)
    points = (xs.astype(np.float64), ys.astype(np.float64))
    shape = (mask.shape[0], mask.shape[1])
    a, _ = best_angle(points, shape, -limit, limit, 0.5)
    a, s = best_angle(points, shape, a - 0.4, a + 0.4, 0.1)
    return round(a, 2), s


def rotate_right_angle(grey: np.ndarray, clockwise: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(grey, k=-(clockwise // 90) % 4))


# --- 1. normalise -------------------------------------------------------------------


# Files the engines read as they are: a grey one of these needs no conversion by us.
_ENGINE_FORMATS = ("PNG", "TIFF", "JPEG", "PPM")  # PPM: Pillow's name for PGM/PPM/PBM


def normalise(src: Path, ctx: PageContext) -> Path:
    """Greyscale, alpha flattened onto white, DPI read from the file (settings as fallback).
    A page the engine reads as it is -- grey (what rasterise makes of a PDF), bilevel or
    RGB, without transparency -- passes on as that file, with its grey pixels kept for the
    next steps: if none of them changes the image, tesseract reads the original and the
    page PDF embeds it byte for byte (a colour scan keeps its colour)."""
    ctx.source_image = src
    try:
        with Image.open(src) as im:
            if not ctx.dpi_known:
                ctx.dpi = image_dpi(im, ctx.dpi)
            # The engine and the page PDF take these files as they are (the geometry and
            # cleaning steps work on the grey pixels); anything else is written grey.
            as_is = (im.format in _ENGINE_FORMATS and im.mode in ("L", "1", "RGB")
                     and "transparency" not in im.info)
            if im.format == "JPEG" and im.mode == "RGB":
                im.draft("L", im.size)  # libjpeg decodes straight to grey: no colour pass
            im.load()
            grey = _to_grey(im)
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"corrupt page image {src.name}: {exc}") from exc
    ctx.notes["size"] = list(grey.size)
    if im.mode == "1":
        ctx.notes["bilevel"] = True  # a G4/fax scan: deskew smooths before it turns
    pixels = np.asarray(grey)
    if as_is:
        return ctx.keep(pixels, src)  # the engine reads the original file; nothing written
    return ctx.keep(pixels, ctx.out_path("1-normalise"))


# --- 3. deskew ----------------------------------------------------------------------

# Degrees below which the page is read as it lies. Both engines read a line tilted this
# little as well as a straight one (PP-OCR cuts each line along its own box; tesseract
# finds slanted baselines), and the turn costs a warp of the whole page (0.03-0.1 CPU s
# at 300 dpi). Measured on scanner_bench's 16 pages at 0.2 and 0.5: CER the same within
# 0.001 for tesseract and ppocr5 (benchmarks/scanner_bench.py --per-page).
_MIN_SKEW = 0.5


def deskew(src: Path, ctx: PageContext) -> Path:
    """Projection-profile skew search (±5°) on a binarised 100-dpi copy (the one the
    orientation step made, turned with the page, when it made one), then one rotation of
    the full-resolution image with white fill."""
    grey = ctx.grey(src)
    analysis = ctx.analysis
    if analysis is None:
        analysis = ctx.analysis = InkAnalysis(ink_mask(grey, ctx.dpi).astype(np.uint8),
                                              rotation=ctx.rotation)
    mask = analysis.mask_at(ctx.rotation)
    if mask.mean() < 0.002:
        return src
    angle = analysis.skew_at(ctx.rotation)
    if angle is None:
        angle, _ = skew_angle(mask)
        analysis.skew, analysis.skew_rotation = angle, ctx.rotation
    if abs(angle) < _MIN_SKEW:
        ctx.skew = 0.0
        return src
    ctx.skew = angle
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    if ctx.detection is not None:
        ctx.detection = ctx.detection.warped(m)
    # A PP-OCR engine reads the page shrunk (detection at a 2000-px side, each line scaled
    # to 48 px high): linear interpolation does for it, a third of the cost of cubic (0.03
    # against 0.1 CPU s on an A4 page at 300 dpi), CER unchanged on scanner_bench's pages.
    # Tesseract reads the pixels as they are: linear cost it CER 0.18 against < 0.1 on a
    # dense 300-dpi contract skewed 3.3° (tests/ocr/test_orientation_dense_sideways.py).
    flags = cv2.INTER_LINEAR if ctx.engine in ENGINE_MODELS else cv2.INTER_CUBIC
    if ctx.notes.get("bilevel") and ctx.dpi < 300:
        # Cubic interpolation of hard 0/255 edges at low resolution staircases: on skewed
        # G4 pages at 200 dpi tesseract read 0.15 -> 0.23 and 0.12 -> 0.18 CER; a 0.6-px
        # blur and linear interpolation read 0.13 and 0.11 (scanner_bench). At 300 dpi the
        # same blur cost CER (+0.11 over three G4 pages): there cubic stays.
        grey = cv2.GaussianBlur(grey, (0, 0), 0.6)
        flags = cv2.INTER_LINEAR
    fixed = cv2.warpAffine(
        grey, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    return ctx.keep(fixed, ctx.out_path("3-deskew"))


# --- 4. clean -----------------------------------------------------------------------

# Specks (components of at most ~0.1 mm²) per megapixel above which we call a page noisy.
_NOISE_SPECKS_PER_MP = 300
# Spread (grey levels) of the smoothed background above which lighting is uneven.
_UNEVEN_BACKGROUND = 40


# Scanner noise covers the whole sheet: counting specks in four bands (a quarter of the
# page, spread top to bottom) tells a noisy page as well as the whole page does, at a
# quarter of the cost of labelling every component (0.13 s per A4 page at 300 dpi).
_SPECK_BANDS = 4


def _speck_sample(grey: np.ndarray) -> np.ndarray:
    h = grey.shape[0]
    band = h // (4 * _SPECK_BANDS)
    if band < 16:  # a small image: all of it
        return grey
    starts = [int((i + 0.5) * h / _SPECK_BANDS) - band // 2 for i in range(_SPECK_BANDS)]
    return np.ascontiguousarray(np.vstack([grey[y : y + band] for y in starts]))


def clean(src: Path, ctx: PageContext) -> Path:
    """Only repair what is broken: median-filter speckle noise, flatten uneven background.

    A clean page passes through untouched -- tesseract's own Otsu binarisation is good on
    clean scans and every filter costs a little accuracy there.
    """
    grey = ctx.grey(src)
    sample = _speck_sample(grey)
    _, binary = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    speck_area = max(2, int((ctx.dpi / 300) ** 2 * 4))
    specks = int((stats[1:, cv2.CC_STAT_AREA] <= speck_area).sum()) if n > 1 else 0
    mp = sample.size / 1e6
    # The threshold is per megapixel at 300 dpi: at 200 dpi a megapixel is 2.25x the
    # paper, so the same sheet's specks are counted per area of paper, not per pixel.
    area_scale = (min(ctx.dpi, 600) / 300) ** 2
    noisy = specks / max(mp, 1e-6) * area_scale > _NOISE_SPECKS_PER_MP
    # The background is estimated at 30 dpi whatever the scan's resolution, so the
    # dilation and median kernels below span the same paper at 200 dpi as at 300.
    bg_scale = min(1.0, 30 / max(ctx.dpi, 1))
    small = cv2.resize(grey, None, fx=bg_scale, fy=bg_scale, interpolation=cv2.INTER_AREA)
    background = cv2.medianBlur(cv2.dilate(small, np.ones((7, 7), np.uint8)), 5)
    spread = float(np.percentile(background, 95) - np.percentile(background, 5))
    uneven = spread > _UNEVEN_BACKGROUND
    ctx.notes["clean"] = {"specks_per_mp": round(specks / max(mp, 1e-6)), "bg_spread": spread}
    if not (noisy or uneven):
        return src
    out = grey
    if uneven:
        bg = cv2.resize(background, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
        out = cv2.divide(out, np.maximum(bg, 1), scale=255)
    if noisy:
        # A bilevel page loses its specks unless they are its broken strokes (despeckle.py).
        out = (despeckle_bilevel(out, ctx.dpi) if ctx.notes.get("bilevel")
               else cv2.medianBlur(out, 3))
    ctx.notes["clean"].update({"denoised": noisy, "flattened": uneven})
    return ctx.keep(out, ctx.out_path("4-clean"))


# --- 4b. faint bilevel strokes ------------------------------------------------------

# A bilevel scan's threshold cut the thin horizontal strokes of Song type into dots (the
# hard corpus's faint bilevel pages kept 20-87% of their printed ink): a Gaussian blur
# of this sigma at 300 dpi (scaled with the dpi: 1 px at 200) gives PP-OCRv5's
# recogniser grey strokes back, which it reads better than the dots, or the dots grown
# (the fallback chain's 2x2 erode) or closed. Its lines are read as cut
# (ppocr_lines.read_as_cut): cut at Otsu they lose the grey again. Faint bilevel pages
# alone (upright, detected again; mean CER) as scanned / blur 1.5 / 1.25 / 1.0 / 2x2
# erode / 3x3 cross erode / 1x3 close / 3x1 close: seed 11 (6 pages) 0.151 0.120 0.124
# 0.139 0.162 0.171 0.165 0.155; seed 23 (8 pages) 0.215 0.202 0.207 0.203 0.186 0.201
# 0.214 0.221: only the blur gains on both. Through the pipeline, with bilevel pages on
# their side detected again (orientation_steps), ``benchmarks/ocr_engines_bench.py
# --corpus hard --pages 18 --seed 11 --no-judges --engines ppocr5 --orientation-engine
# auto``, mean CER of the pages with ink / faint bilevel: 0.078 / 0.158 -> 0.062 /
# 0.117; --seed 23: 0.122 / 0.219 -> 0.116 / 0.205. --corpus normal (3 clean G4 pages
# among 18): 0.022, every page as before. The blur costs ~0.01 CPU s a page.
STROKE_BLUR_300DPI = 1.5


def restore_strokes(src: Path, ctx: PageContext) -> Path:
    """A bilevel page PP-OCRv5 reads blurred (STROKE_BLUR_300DPI); others as they are
    (tesseract binarises the page itself: measured for PP-OCRv5 only)."""
    if not ctx.notes.get("bilevel") or ENGINE_MODELS.get(ctx.engine) != "v5":
        return src
    sigma = STROKE_BLUR_300DPI * ctx.dpi / 300
    blurred = cv2.GaussianBlur(ctx.grey(src), (0, 0), sigma)
    ctx.notes["strokes"] = {"blur": round(sigma, 2)}  # PP-OCR reads its lines as cut
    return ctx.keep(blurred, ctx.out_path("4b-strokes"))


# --- 5. recognise -------------------------------------------------------------------


def recognise(src: Path, ctx: PageContext) -> Path:
    """Words, text and the single-page searchable PDF in one engine run."""
    src = ctx.file(src)
    engine = ctx.get_engine()
    # The engine read turned, deskewed or cleaned pixels (a work file): the page PDF shows
    # the scan as stored (its JPEG/G4 bytes, not a lossless copy several times their size).
    under = ctx.source_image if src != ctx.source_image else None
    if isinstance(engine, PpOcrEngine):
        out = engine.recognise(src, languages=ctx.languages, dpi=ctx.dpi,
                               timeout=ctx.remaining(), pdf=True, detection=ctx.detection,
                               under=under, lines_as_cut="strokes" in ctx.notes)
    else:
        out = engine.recognise(src, languages=ctx.languages, dpi=ctx.dpi,
                               timeout=ctx.remaining(), pdf=True, under=under)
    if out.pdf is None:
        raise OcrError(f"engine {ctx.engine} produced no PDF for page {ctx.page_no}")
    place_scan(out.pdf, ctx)
    ctx.output = out
    ctx.recognised_image = src
    return out.pdf


def place_scan(pdf: Path, ctx: PageContext) -> None:
    """The scan under a page PDF's text turned by the same angles as the pixels the engine
    read, so the text layer lies on it (the engine drew it filling the page: right as it
    is when the page was only cleaned)."""
    ccw = ctx.skew - ctx.rotation
    if ctx.source_image is not None and ccw:
        replace_scan(pdf, ctx.source_image, dpi=ctx.dpi, ccw_degrees=ccw)


# --- 6. one script per page ---------------------------------------------------------


def harmonise_script(src: Path, ctx: PageContext) -> Path:
    """On a Traditional page, the characters the engine wrote in Simplified form are
    converted (ocr_worker/han_script.py) and the page's text layer rebuilt from the same
    boxes. ``src`` is the recognise step's PDF; it is returned unchanged otherwise."""
    out = ctx.output
    if out is None or ctx.recognised_image is None:
        raise OcrError(f"page {ctx.page_no}: harmonise_script runs after recognise")
    done = harmonise(out.text, out.words, ctx.traditional_variant)
    if done is None:
        return src
    pdf = relayer_page_pdf(src, ctx.recognised_image, done.words,
                           ctx.out_path("6-script", ".pdf"), dpi=ctx.dpi)
    ctx.output = replace(out, text=done.text, words=done.words, pdf=pdf)
    ctx.notes["script"] = {"traditional": True, "converted_chars": done.changed,
                           "traditional_only": done.counts.traditional_only,
                           "simplified_only": done.counts.simplified_only,
                           "variant": ctx.traditional_variant}
    return pdf
