"""Despeckling a bilevel page without eating faint strokes.

A faint bilevel scan (light toner cut by the scanner's threshold) breaks each stroke into
small dots a pixel or two across -- exactly what a speckle filter removes. A 3x3 median,
the clean step's filter for grey pages, wipes out every ink pixel with fewer than five ink
neighbours, so it removes one-pixel strokes and the dotted strokes of a faint page whole.
What tells the two pages apart is where their ink lies: on a dusty page the specks are a
sliver of the ink beside whole strokes, on a faint page a good part of the text itself.
"""
from __future__ import annotations

import cv2
import numpy as np

# A speck is a component of at most this many ink pixels per (dpi/300)^2 -- the clean
# step's count of specks uses the same size (about 0.03 mm^2).
SPECK_PIXELS_300DPI = 4
# A page with more of its ink than this share in specks has its strokes broken into them:
# it is not despeckled at all. Measured: faint bilevel pages of the hard corpus
# (dms.sample_data.hard, seeds 11 and 23) that count as speckled hold 0.07-0.39 of their
# ink in specks (a faint 300-dpi contract page: the 3x3 median kept 55% of its ink, CER
# 0.99; left alone, CER 0.81); the same contract printed with full toner and 5000
# one-pixel specks of dust scattered over it (570 per megapixel), 0.009.
FRAGMENTED_SHARE = 0.03


def despeckle_bilevel(grey: np.ndarray, dpi: int) -> np.ndarray:
    """``grey`` (a bilevel page: 0 ink, 255 paper) without its specks, unless the specks
    are the page's broken strokes (FRAGMENTED_SHARE): then as it is."""
    ink = (grey < 128).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return grey
    max_area = max(1, int(round(SPECK_PIXELS_300DPI * (dpi / 300) ** 2)))
    area = stats[:, cv2.CC_STAT_AREA]
    speck = area <= max_area
    speck[0] = False  # the paper
    in_specks = int(area[speck].sum())
    if not in_specks or in_specks > FRAGMENTED_SHARE * int(area[1:].sum()):
        return grey
    out = grey.copy()
    out[speck[labels]] = 255
    return out
