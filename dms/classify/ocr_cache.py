"""Real OCR output of generated documents, cached on disk.

The classifier benchmark and the slow tests need what an OCR engine really reads off a
scanned page (noise, mixed scripts, broken lines), not the rendered ground truth.
OCR costs 10-20 s per A4 page, so each document is read once and kept as JSON under
``/tmp/dms-classify-cache`` keyed by (doc_type, seed, script, rotation) and the engine
that read it (the deployment default unless asked otherwise); reruns are cheap.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("/tmp/dms-classify-cache")
CONTRACT_TYPES = ("GYDHT", "DDXY")  # multi-page: every page is read


@dataclass(frozen=True)
class DocKey:
    doc_type: str
    seed: int
    script: str = "simplified"
    rotation: int = 0

    @property
    def name(self) -> str:
        return f"{self.doc_type}-{self.seed}-{self.script}-r{self.rotation}"


@dataclass
class OcrPage:
    page_no: int
    text: str
    words: list[dict[str, Any]]
    ocr_seconds: float
    truth_text: str


@dataclass
class OcrDoc:
    key: DocKey
    font: str
    fields: dict[str, str]  # ground truth key fields (ISO dates)
    customer_no: str
    pages: list[OcrPage] = field(default_factory=list)

    @property
    def ocr_seconds(self) -> float:
        return sum(p.ocr_seconds for p in self.pages)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> OcrDoc:
        d = json.loads(s)
        return cls(key=DocKey(**d["key"]), font=d["font"], fields=d["fields"],
                   customer_no=d["customer_no"], pages=[OcrPage(**p) for p in d["pages"]])


def _pages_to_read(doc_type: str, n_pages: int) -> list[int]:
    return list(range(n_pages)) if doc_type in CONTRACT_TYPES else [0]


def default_engine() -> str:
    from dms.settings import Settings

    return str(Settings.model_fields["ocr_engine"].default)


def cache_path(key: DocKey, cache_dir: Path, engine: str) -> Path:
    return cache_dir / f"{key.name}.{engine}.json"


def ocr_document(key: DocKey, cache_dir: Path = DEFAULT_CACHE_DIR,
                 engine: str | None = None) -> OcrDoc:
    """Render ``key`` and OCR it with the production pipeline and ``engine`` (default: the
    deployment default), or load the cached result."""
    engine = engine or default_engine()
    path = cache_path(key, cache_dir, engine)
    if path.exists():
        return OcrDoc.from_json(path.read_text(encoding="utf-8"))
    from dms.sample_data import render_document
    from dms.settings import load_settings
    from ocr_worker.pipeline import make_context, process_page

    doc = render_document(key.doc_type, seed=key.seed, script=key.script, rotation=key.rotation)
    out = OcrDoc(key, doc.truth[0].font, dict(doc.fields), doc.customer_no)
    with tempfile.TemporaryDirectory(prefix="dms-classify-ocr-") as tmp:
        settings = load_settings(data_dir=Path(tmp) / "var", _env_file=None, ocr_engine=engine)
        for i in _pages_to_read(key.doc_type, len(doc.pages)):
            img = Path(tmp) / f"page{i + 1}.png"
            doc.pages[i].save(img)
            t0 = time.perf_counter()
            res = process_page(img, make_context(img, settings, page_no=i + 1), settings)
            out.pages.append(OcrPage(i + 1, res.text, [w.to_dict() for w in res.words],
                                     round(time.perf_counter() - t0, 3), doc.truth[i].text))
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(out.to_json())
    os.replace(tmp_name, path)  # atomic: a killed run never leaves half a file
    return out


def _one(args: tuple[DocKey, Path, str]) -> str:
    return ocr_document(*args).key.name


def ocr_many(keys: Iterable[DocKey], cache_dir: Path = DEFAULT_CACHE_DIR,
             workers: int = 1, engine: str | None = None) -> list[OcrDoc]:
    """OCR every key not cached yet (in ``workers`` processes), then load all of them."""
    keys = list(keys)
    engine = engine or default_engine()
    missing = [k for k in keys if not cache_path(k, cache_dir, engine).exists()]
    if missing:
        log.info("OCR of %d documents (%d cached)", len(missing), len(keys) - len(missing))
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                for name in pool.map(_one, [(k, cache_dir, engine) for k in missing]):
                    log.info("cached %s", name)
        else:
            for k in missing:
                ocr_document(k, cache_dir, engine)
    return [ocr_document(k, cache_dir, engine) for k in keys]


def variation(doc_type: str, seed: int) -> DocKey:
    """A deterministic mix of scripts and orientations: about a third Traditional,
    a sixth of the pages turned (90/180/270)."""
    import random

    r = random.Random(f"classify-bench/{doc_type}/{seed}")
    script = "traditional" if r.random() < 0.33 else "simplified"
    rotation = r.choice((90, 180, 270)) if r.random() < 0.17 else 0
    return DocKey(doc_type, seed, script, rotation)
