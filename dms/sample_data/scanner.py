"""Make a clean rendered page look like it came off a batch scanner.

Order matters and follows the physical process: the sheet lies skewed on the glass,
the optics blur it, the lamp lights it unevenly, the sensor adds noise, dust adds
speckles, then the driver binarises or JPEG-compresses, and finally the page may
have been fed sideways or upside down (a lossless 90° turn of the whole image).
"""
from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
from PIL import Image

NOISE_LEVELS = ("none", "light", "scanner", "heavy")
ROTATIONS = (0, 90, 180, 270)


def choose_params(level: str, r: random.Random) -> dict[str, Any]:
    """Per-page scanner parameters (recorded in the ground truth)."""
    if level not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {NOISE_LEVELS}, not {level!r}")
    if level == "none":
        return {"mode": "gray", "blur": 0.0, "noise_sigma": 0.0, "speckles": 0,
                "brightness": 0.0, "paper": 1.0, "jpeg_quality": 0, "threshold": 0,
                "edge_shadow": 0, "bg_clip": 0}
    k = {"light": 0.4, "scanner": 1.0, "heavy": 1.8}[level]
    u = r.random()
    mode = "bilevel" if u < 0.3 else "color" if u < 0.38 else "gray"
    return {
        "mode": mode,
        "blur": round(r.uniform(0.3, 0.9) * min(k, 1.4), 2),
        "noise_sigma": round(r.uniform(2.0, 6.0) * k, 1),
        "speckles": int(r.uniform(20, 250) * k),
        "brightness": round(r.uniform(0.02, 0.08) * k, 3),
        "paper": round(r.uniform(0.9, 1.0), 3),
        "jpeg_quality": 0 if mode == "bilevel" else int(r.uniform(90, 60) - 12 * (k - 1)),
        "threshold": r.randint(150, 185) if mode == "bilevel" else 0,
        "edge_shadow": r.randint(15, 60) if r.random() < 0.25 * k else 0,
        # scanner drivers' "background removal": near-white paper becomes pure white
        "bg_clip": r.randint(215, 235) if mode != "bilevel" and r.random() < 0.8 / k else 0,
    }


def scan(page: Image.Image, *, rotation: int, skew: float, params: dict[str, Any],
         seed: int) -> Image.Image:
    """Apply ``params``, ``skew`` (degrees, counter-clockwise) and ``rotation``."""
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}")
    g = np.random.default_rng(seed)
    color = params["mode"] == "color"
    arr = np.array(page.convert("RGB" if color else "L"))
    h, w = arr.shape[:2]
    white = (255, 255, 255) if color else 255
    if skew:
        mat = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        arr = cv2.warpAffine(arr, mat, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=white)
    if params["blur"]:
        arr = cv2.GaussianBlur(arr, (0, 0), params["blur"])
    if params["noise_sigma"] or params["brightness"] or params["paper"] < 1.0:
        b = params["brightness"]
        small = g.uniform(1 - b, 1 + b / 3, (3, 4)).astype(np.float32) * params["paper"]
        light = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        # half-resolution noise, upsampled: real sensor grain is not pixel-independent,
        # and it is four times cheaper to draw. cv2 arithmetic: threaded and saturating.
        grain = cv2.resize(g.standard_normal((h // 2, w // 2), dtype=np.float32), (w, h),
                           interpolation=cv2.INTER_LINEAR)
        if color:
            light, grain = cv2.merge([light] * 3), cv2.merge([grain] * 3)
        f = cv2.scaleAdd(grain, float(params["noise_sigma"]),
                         cv2.multiply(arr, light, dtype=cv2.CV_32F))
        arr = cv2.convertScaleAbs(f)
    for _ in range(params["speckles"]):
        x, y = int(g.integers(0, w)), int(g.integers(0, h))
        tone = int(g.integers(0, 120))
        cv2.circle(arr, (x, y), int(g.integers(1, 4)), (tone,) * 3 if color else tone, -1)
    if params.get("bg_clip"):
        arr[arr > params["bg_clip"]] = 255
    if params["edge_shadow"]:
        e = params["edge_shadow"]
        side = int(g.integers(0, 4))
        sl = [(slice(None), slice(0, e)), (slice(None), slice(w - e, w)),
              (slice(0, e), slice(None)), (slice(h - e, h), slice(None))][side]
        arr[sl] = (arr[sl] * 0.35).astype(np.uint8)
    if params["mode"] == "bilevel":
        out = Image.fromarray(arr > params["threshold"]).convert("1")
    else:
        if params["jpeg_quality"]:
            ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, params["jpeg_quality"]])
            assert ok
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
            assert decoded is not None
            arr = decoded
        out = Image.fromarray(arr)
    if rotation:
        # PIL's ROTATE_90 turns counter-clockwise, the convention of Image.rotate()
        turn = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                270: Image.Transpose.ROTATE_270}[rotation]
        out = out.transpose(turn)
    out.info["dpi"] = (300, 300)
    return out
