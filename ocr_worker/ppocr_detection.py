"""PP-OCR's text-line detection apart from reading: the lines of a downscaled page as
orientation evidence, and one detection of the page at reading size that the orientation
step judges by and the recognise step then reads from (half of PP-OCR's cost per page is
the detector: an upright page is detected once)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from errorkit import ExternalToolError
from ocr_worker.orientation import LINE_ASPECT, LineEvidence
from ocr_worker.ppocr_models import load_model

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


def read_detected(model: Any, img: np.ndarray,
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
