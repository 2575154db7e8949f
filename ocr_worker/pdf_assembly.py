"""Merge single-page searchable PDFs into the document's searchable PDF.

The output shows the processed page images with tesseract's invisible text on top; the
original upload is never touched. Written to a temp file next to ``out`` and renamed, so a
crash never leaves a half-written PDF under the final name.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pikepdf

from ocr_worker.pdf_image import KEEP_STREAMS

from errorkit import OcrError

PRODUCER = "dms"


def assemble_searchable_pdf(
    page_pdfs: list[Path], out: Path, *, title: str | None = None
) -> Path:
    """Concatenate the first page of each of ``page_pdfs`` into ``out`` (atomically).

    The sources stay open until the save because qpdf copies stream data lazily at write
    time: memory holds object tables, not page images.
    """
    if not page_pdfs:
        raise OcrError("no pages to assemble")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with contextlib.ExitStack() as stack:
            dest = stack.enter_context(pikepdf.new())
            for path in page_pdfs:
                try:
                    src = stack.enter_context(pikepdf.open(path))
                except pikepdf.PdfError as exc:
                    raise OcrError(f"page PDF {path.name} unreadable: {exc}") from exc
                dest.pages.extend(src.pages)
            now = datetime.now(UTC)
            with dest.open_metadata(set_pikepdf_as_editor=False) as meta:
                if title:
                    meta["dc:title"] = title
                meta["pdf:Producer"] = PRODUCER
                meta["xmp:CreatorTool"] = PRODUCER
                meta["xmp:CreateDate"] = now.isoformat()
            dest.docinfo[pikepdf.Name.Producer] = PRODUCER
            dest.docinfo[pikepdf.Name.Creator] = PRODUCER
            if title:
                dest.docinfo[pikepdf.Name.Title] = title
            dest.save(tmp, **KEEP_STREAMS)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
