"""Result types of the OCR pipeline; plain dataclasses with a JSON round trip.

The task layer stores ``PageResult.to_dict()`` as JSON and feeds ``text`` to the indexer.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ocr_worker.metrics import cer

__all__ = ["PageResult", "Word", "cer"]

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    """One recognised word; ``bbox`` is (x0, y0, x1, y1) in pixels of the processed image."""

    text: str
    conf: float
    bbox: BBox
    block: int = 0
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bbox"] = list(self.bbox)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        x0, y0, x1, y1 = (int(v) for v in d["bbox"])
        return cls(
            text=str(d["text"]),
            conf=float(d["conf"]),
            bbox=(x0, y0, x1, y1),
            block=int(d.get("block", 0)),
            line=int(d.get("line", 0)),
        )


@dataclass
class PageResult:
    page_no: int
    text: str
    words: list[Word]
    mean_confidence: float
    rotation: int  # degrees clockwise applied to make the page upright (0/90/180/270)
    skew: float  # degrees of skew that deskew removed (0.0 when none)
    needs_review: bool
    engine: str
    languages: str
    dpi: int
    page_pdf: Path  # single-page PDF: processed image + invisible text layer
    processed_image: Path
    timings: dict[str, float] = field(default_factory=dict)  # step name -> seconds
    existing_text: str | None = None  # text layer the source PDF already had, if any
    notes: dict[str, Any] = field(default_factory=dict)  # what steps found (noise, osd ...)

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_no": self.page_no,
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
            "mean_confidence": self.mean_confidence,
            "rotation": self.rotation,
            "skew": self.skew,
            "needs_review": self.needs_review,
            "engine": self.engine,
            "languages": self.languages,
            "dpi": self.dpi,
            "page_pdf": str(self.page_pdf),
            "processed_image": str(self.processed_image),
            "timings": dict(self.timings),
            "existing_text": self.existing_text,
            "notes": dict(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PageResult:
        return cls(
            page_no=int(d["page_no"]),
            text=str(d["text"]),
            words=[Word.from_dict(w) for w in d.get("words", [])],
            mean_confidence=float(d["mean_confidence"]),
            rotation=int(d["rotation"]),
            skew=float(d["skew"]),
            needs_review=bool(d["needs_review"]),
            engine=str(d["engine"]),
            languages=str(d["languages"]),
            dpi=int(d["dpi"]),
            page_pdf=Path(d["page_pdf"]),
            processed_image=Path(d["processed_image"]),
            timings={str(k): float(v) for k, v in d.get("timings", {}).items()},
            existing_text=d.get("existing_text"),
            notes=dict(d.get("notes", {})),
        )
