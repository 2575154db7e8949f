"""Harder scanned pages: what archive scans do that the everyday generator does not.

Each page is a :class:`HardPage` -- a handful of generator parameters -- rendered from a
clean page of :func:`~dms.sample_data.document.render_document` and then degraded:

* faint bilevel (G4 TIFF): light toner, thresholded by the scanner driver, so strokes break
  and thin characters vanish (``ink`` < 1 with ``threshold``);
* low contrast grey: the same light toner without the threshold;
* low resolution (150-200 dpi), heavy JPEG artefacts, red seals stamped over the text;
* sparse pages (an ID-card copy with front and back side by side, a contract's signature
  page, a one-table annex) come from the document types and page numbers chosen;
* every right-angle turn plus a few degrees of skew.

Same parameters, same image: all randomness comes from ``seed``. Tests store the
parameters of the pages that broke the pipeline (not the images); the engines benchmark
draws a mixed set with :func:`hard_pages`.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from dms.sample_data.document import render_document
from dms.sample_data.ink import seal
from dms.sample_data.render import available_faces, get_font

DEGRADES = ("faint_bilevel", "low_contrast", "heavy_jpeg", "plain")
# Pages that hold little text: (doc type, page index). SFZM is an ID-card copy (front and
# back), GYDHT's third page the signature page, KCD a one-table work order.
SPARSE = (("SFZM", 0), ("GYDHT", 2), ("KCD", 0), ("SQWTS", 0))
DENSE = (("GYDHT", 0), ("YDSQS", 0), ("BGSQ", 0), ("GYDHT", 1), ("GDFA", 0))


@dataclass(frozen=True)
class HardPage:
    doc_type: str
    seed: int
    page: int = 0  # index of the page within the rendered document
    degrade: str = "faint_bilevel"
    ink: float = 1.0  # share of the printed ink's darkness the scan keeps (toner)
    threshold: int = 0  # bilevel cut (grey level); 0 keeps the page grey
    dpi: int = 300
    rotation: int = 0  # counter-clockwise turn of the finished scan (PIL convention)
    skew: float = 0.0  # degrees, counter-clockwise
    jpeg_quality: int = 0
    stamps: int = 0  # red seals stamped over the text
    side_by_side: bool = False  # an ID-card copy: front and back next to each other
    script: str = "simplified"

    @property
    def sparse(self) -> bool:
        return (self.doc_type, self.page) in SPARSE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _side_by_side(grey: np.ndarray) -> np.ndarray:
    """The ID card's back moved beside its front: the two card blocks (found as the two
    largest bands of rows with ink) side by side on one landscape-filled page."""
    ink = (grey < 235).sum(axis=1) > 0
    bands: list[tuple[int, int]] = []
    y = 0
    h = grey.shape[0]
    while y < h:
        if ink[y]:
            y0 = y
            while y < h and ink[y]:
                y += 1
            bands.append((y0, y))
        y += 1
    cards = sorted(sorted(bands, key=lambda b: b[1] - b[0], reverse=True)[:2])
    if len(cards) < 2:
        return grey
    (a0, a1), (b0, b1) = cards
    cols = np.nonzero((grey[a0:a1] < 235).any(axis=0))[0]
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    front, back = grey[a0:a1, x0:x1], grey[b0:b1, x0:x1]
    out = np.full_like(grey, 255)
    out[:a0] = grey[:a0]  # a heading above the cards stays
    half = grey.shape[1] // 2
    scale = min(1.0, (half - 60) / (x1 - x0))
    for k, card in enumerate((front, back)):
        small = cv2.resize(card, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x = 40 + k * half
        out[a0 : a0 + small.shape[0], x : x + small.shape[1]] = small
    top = a0 + int((a1 - a0) * scale) + 80
    below = grey[b1 : b1 + h - top]
    out[top : top + below.shape[0]] = below
    return out


def render_hard_page(p: HardPage) -> tuple[Image.Image, list[str]]:
    """The scanned page image (its DPI in ``info``) and its printed text lines."""
    if p.degrade not in DEGRADES:
        raise ValueError(f"degrade must be one of {DEGRADES}, not {p.degrade!r}")
    doc = render_document(p.doc_type, seed=p.seed, script=p.script, noise="none")
    index = min(p.page, len(doc.pages) - 1)
    lines = doc.truth[index].lines
    r = random.Random(f"hard/{p.seed}/{p.doc_type}/{p.page}")
    g = np.random.default_rng(r.randrange(2**32))
    page = doc.pages[index].convert("RGB")
    font = get_font(r.choice(available_faces()), p.script, 60, bold=True)
    for _ in range(p.stamps):
        # over the text block, where a seal lands on a signed form
        cx = r.randint(page.width // 4, 3 * page.width // 4)
        cy = r.randint(page.height // 6, page.height // 2)
        seal(page, "国网供电公司业务专用章", (cx, cy), r, font)
    grey: np.ndarray = np.asarray(page.convert("L")).astype(np.float32)
    if p.side_by_side:
        grey = _side_by_side(grey.astype(np.uint8)).astype(np.float32)
    printed = float((grey < 128).mean())  # the page's ink as printed, at 300 dpi
    grey = 255.0 - (255.0 - grey) * p.ink  # light toner
    h, w = grey.shape
    if p.skew:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), p.skew, 1.0)
        grey = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=255.0)
    grey = cv2.GaussianBlur(grey, (0, 0), 0.7)
    grain = cv2.resize(g.standard_normal((h // 2, w // 2)).astype(np.float32), (w, h))
    grey = grey + grain * 6.0
    if p.dpi != 300:
        f = p.dpi / 300
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    arr: np.ndarray = np.clip(grey, 0, 255).astype(np.uint8)
    if p.threshold:
        out = Image.fromarray(arr > p.threshold).convert("1")
        # How much of the printed ink the scanner's threshold kept: light toner under a
        # low threshold can leave (next to) nothing of a page, which no reader can read
        # back; the benchmark counts such scans apart (and checks they are flagged).
        kept = float((arr <= p.threshold).mean()) / max(printed, 1e-6)
        out.info["ink_kept"] = round(min(1.0, kept), 3)  # blur can widen a dark stroke
    else:
        if p.jpeg_quality:
            ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_quality])
            assert ok
            decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
            assert decoded is not None
            arr = decoded
        out = Image.fromarray(arr)
    if p.rotation:
        out = out.transpose({90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                             270: Image.Transpose.ROTATE_270}[p.rotation])
    out.info["dpi"] = (p.dpi, p.dpi)
    return out, lines


def save_hard_page(p: HardPage, path: Path) -> tuple[Path, list[str]]:
    """Bilevel pages as G4 TIFF (as scanner drivers store them), grey ones as JPEG when
    ``jpeg_quality`` is set, else PNG; ``path``'s suffix is replaced accordingly."""
    img, lines = render_hard_page(p)
    return write_hard_page(img, p, path), lines


def write_hard_page(img: Image.Image, p: HardPage, path: Path) -> Path:
    """Write a rendered hard page as a scanner would store it (see save_hard_page)."""
    if img.mode == "1":
        path = path.with_suffix(".tif")
        img.save(path, compression="group4", dpi=(p.dpi, p.dpi))
    elif p.jpeg_quality:
        path = path.with_suffix(".jpg")
        img.save(path, quality=95, dpi=(p.dpi, p.dpi))  # the artefacts are already in
    else:
        path = path.with_suffix(".png")
        img.save(path, dpi=(p.dpi, p.dpi))
    return path


def hard_pages(n: int, seed: int = 1) -> list[HardPage]:
    """``n`` mixed hard pages: half faint bilevel, the rest low contrast, heavy JPEG or
    stamped; a third sparse; every turn; some Traditional; some at 150-200 dpi."""
    r = random.Random(f"hard-pages/{seed}")
    out = []
    for i in range(n):
        doc_type, page = r.choice(SPARSE if i % 3 == 0 else DENSE)
        degrade = DEGRADES[0] if i % 2 == 0 else r.choice(DEGRADES[1:])
        ink = round(r.uniform(0.35, 0.6), 2) if degrade in DEGRADES[:2] else 1.0
        out.append(HardPage(
            doc_type=doc_type, seed=r.randrange(10_000), page=page, degrade=degrade, ink=ink,
            threshold=r.randint(150, 175) if degrade == "faint_bilevel" else 0,
            dpi=r.choice((150, 200, 200, 300, 300)),
            rotation=r.choice((0, 0, 90, 180, 270)),
            skew=round(r.uniform(-3, 3), 1) if r.random() < 0.5 else 0.0,
            jpeg_quality=r.randint(12, 30) if degrade == "heavy_jpeg" else 0,
            stamps=1 if degrade == "plain" or r.random() < 0.2 else 0,
            side_by_side=doc_type == "SFZM" and r.random() < 0.5,
            script="traditional" if r.random() < 0.25 else "simplified",
        ))
    return out


def generate_hard_pages(out_dir: Path, n: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """Files ``hard_0001.tif|png|jpg`` and ``truth.json`` in the layout of
    :func:`~dms.sample_data.corpus.generate_pages` (plus the page's parameters)."""
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, p in enumerate(hard_pages(n, seed), 1):
        img, lines = render_hard_page(p)
        path = write_hard_page(img, p, root / f"hard_{i:04d}")
        entries.append({"file": path.name, "doc_type": p.doc_type, "script": p.script,
                        "text": "\n".join(lines), "rotation": p.rotation, "skew": p.skew,
                        "layout": "sparse" if p.sparse else "dense", "degrade": p.degrade,
                        "seals": ["stamp"] * p.stamps, "hard": p.to_dict(),
                        "ink_kept": img.info.get("ink_kept", 1.0)})
    (root / "truth.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return entries
