"""The OCR engines by name: a registry of factories, and the rule that picks one for a
document (:func:`choose_engine`).

Three engines are registered: ``tesseract`` (:class:`~ocr_worker.engine.TesseractEngine`),
``ppocr`` and ``ppocr5`` (PP-OCRv4 / PP-OCRv5 on ONNX Runtime,
:class:`~ocr_worker.ppocr_engine.PpOcrEngine`; their models load on first use, not on
import).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from errorkit import ConfigError
from ocr_worker.engine import TesseractEngine
from ocr_worker.engine_api import OcrEngine
from ocr_worker.ppocr_engine import PpOcrEngine
from ocr_worker.ppocr_models import load_model

_REGISTRY: dict[str, Callable[[], OcrEngine]] = {}


def register_engine(name: str, factory: Callable[[], OcrEngine]) -> None:
    _REGISTRY[name] = factory


def get_engine(name: str) -> OcrEngine:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(f"unknown OCR engine {name!r}", hint=f"known engines: {known}") from None
    return factory()


def engine_names() -> list[str]:
    return sorted(_REGISTRY)


def choose_engine(
    default: str, by_doc_type: Mapping[str, str], *, doc_type: str | None = None,
    requested: str | None = None,
) -> str:
    """The engine for one document: an explicit request (``dms ocr --reprocess --engine``)
    wins, then the setting for its document type, then the deployment's default.

    The document type is usually unknown at the first OCR (classification reads the OCR
    text), so the per-type choice takes effect when a classified document is reprocessed.
    """
    for name in (requested, by_doc_type.get(doc_type or "") if doc_type else None, default):
        if name:
            if name not in _REGISTRY:
                raise ConfigError(f"unknown OCR engine {name!r}",
                                  hint=f"known engines: {', '.join(engine_names())}")
            return name
    raise ConfigError("no OCR engine configured", hint="set DMS_OCR_ENGINE")


def _ppocr() -> OcrEngine:
    return PpOcrEngine()


def _ppocr5() -> OcrEngine:
    return PpOcrEngine(functools.partial(load_model, "v5"), name="ppocr5")


register_engine("tesseract", TesseractEngine)
register_engine("ppocr", _ppocr)
register_engine("ppocr5", _ppocr5)
