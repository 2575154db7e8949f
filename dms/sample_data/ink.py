"""Marks that are not typeset text: red round seals (公章), handwritten signatures, ticks.

They are composited with a multiply blend, as ink on paper: the printed text under a
seal stays visible, which is exactly what makes real seals hard for OCR.
"""
from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FontT = ImageFont.FreeTypeFont


def _blend(img: Image.Image, mask: np.ndarray, origin: tuple[int, int],
           color: tuple[int, int, int], opacity: float) -> None:
    """Multiply ``color`` into ``img`` where ``mask`` (0..255) is set; clipped to the page."""
    x, y = origin
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.width), min(y + h, img.height)
    if x0 >= x1 or y0 >= y1:
        return
    a = mask[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)[..., None] * (opacity / 255.0)
    region = np.asarray(img.crop((x0, y0, x1, y1)), dtype=np.float32)
    tint = np.array(color, dtype=np.float32) / 255.0
    out = region * (1.0 - a * (1.0 - tint))
    img.paste(Image.fromarray(out.clip(0, 255).astype(np.uint8)), (x0, y0))


def _blotchy(shape: tuple[int, int], r: random.Random, low: float) -> np.ndarray:
    # uneven ink: a smooth random field between ``low`` and 1
    g = np.random.default_rng(r.randrange(2**32))
    small = g.uniform(low, 1.0, (8, 8)).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def seal(img: Image.Image, text: str, center: tuple[int, int], r: random.Random,
         font: FontT, purpose: str = "") -> None:
    """A round official seal: ring, organisation name on the upper arc, star, purpose."""
    d = r.randint(430, 520)  # 36-44 mm, the usual size of a 公章
    m = Image.new("L", (d, d), 0)
    dr = ImageDraw.Draw(m)
    ring = d // 26
    dr.ellipse((ring // 2, ring // 2, d - ring // 2, d - ring // 2), outline=255, width=ring)
    c = d / 2
    star_r = d * 0.16
    pts = [(c + (star_r if k % 2 == 0 else star_r * 0.4) * math.sin(k * math.pi / 5),
            c - (star_r if k % 2 == 0 else star_r * 0.4) * math.cos(k * math.pi / 5))
           for k in range(10)]
    dr.polygon(pts, fill=255)
    n = max(len(text), 1)
    span = min(250.0, 30.0 + n * 17.0)
    fs = int(min(d * 0.13, (span / 360) * math.pi * d * 0.78 / n))
    f = font.font_variant(size=max(fs, 18))
    fsz = int(f.size)
    radius = c - ring - fsz * 0.75
    for k, ch in enumerate(text):
        phi = -span / 2 + span * (k + 0.5) / n
        glyph = Image.new("L", (fsz * 2, fsz * 2), 0)
        ImageDraw.Draw(glyph).text((fsz, fsz), ch, font=f, fill=255, anchor="mm")
        glyph = glyph.rotate(-phi, resample=Image.Resampling.BICUBIC)
        gx = c + radius * math.sin(math.radians(phi)) - fsz
        gy = c - radius * math.cos(math.radians(phi)) - fsz
        m.paste(glyph, (int(gx), int(gy)), glyph)
    if purpose:
        pf = font.font_variant(size=int(d * 0.075))
        dr.text((c, c + d * 0.3), purpose, font=pf, fill=255, anchor="mm")
    m = m.rotate(r.uniform(-35, 35), resample=Image.Resampling.BICUBIC)
    arr = np.asarray(m, dtype=np.float32) * _blotchy((d, d), r, 0.45)
    color = (r.randint(190, 225), r.randint(20, 60), r.randint(30, 60))
    _blend(img, arr, (center[0] - d // 2, center[1] - d // 2), color, r.uniform(0.7, 0.92))


def signature(img: Image.Image, text: str, pos: tuple[int, int], px: int, r: random.Random,
              font: FontT) -> None:
    """A name "written by hand": slanted, wavy, uneven strokes in pen ink."""
    f = font.font_variant(size=int(px * r.uniform(1.2, 1.7)))
    fsz = int(f.size)
    w = int(f.getlength(text)) + 2 * fsz
    h = 2 * fsz
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).text((fsz // 2, h // 2), text, font=f, fill=255, anchor="lm")
    arr = np.asarray(m)
    shear, sx = r.uniform(-0.45, -0.1), r.uniform(0.8, 1.15)
    mat = np.array([[sx, shear, -shear * h / 2], [0.0, 1.0, 0.0]], dtype=np.float32)
    arr = cv2.warpAffine(arr, mat, (w, h))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    amp, lam = r.uniform(2, 6), r.uniform(40, 120)
    arr = cv2.remap(arr, xx + amp * np.sin(yy / lam * 6.28), yy + amp * np.sin(xx / lam * 3.1),
                    cv2.INTER_LINEAR)
    kernel = np.ones((3, 3), np.uint8)
    arr = cv2.erode(arr, kernel) if r.random() < 0.5 else cv2.dilate(arr, kernel)
    color = r.choice(((25, 35, 120), (30, 30, 30), (20, 20, 80)))
    _blend(img, arr.astype(np.float32), (pos[0], pos[1] - h // 4), color, 0.95)


def tick(img: Image.Image, x: int, y: int, px: int, r: random.Random) -> None:
    """A hand-drawn check mark over an option box."""
    dr = ImageDraw.Draw(img)
    j = lambda: r.randint(-4, 4)  # noqa: E731 - tiny jitter helper
    a = (x + px * 0.1 + j(), y + px * 0.55 + j())
    b = (x + px * 0.4 + j(), y + px * 0.95 + j())
    c = (x + px * 1.0 + j(), y - px * 0.1 + j())
    dr.line((a, b, c), fill=(30, 30, 90), width=max(px // 12, 3), joint="curve")
