"""Store a searchable PDF without the scan bytes the original already holds.

A scanner's searchable PDF is the original's images (byte for byte, see
``ocr_worker/scan_pages.py``) plus an invisible text layer of a few KB a page: stored
as it is, it doubles the archive (issue 18: "everything stored beside the originals
<= 0.3x"). :func:`slim` empties every scan image whose bytes are those of the original's
page (or TIFF frame, or one-page JPEG/PNG) and notes where they come from (``/DmsFrom``,
the 1-based page); :func:`restore` puts them back from the original, in tens of
milliseconds a document. Images that are not in the original (a rendered page, a frame
that had to be re-encoded) stay in the slim PDF. Each image is compared byte for byte
before it is emptied, so a slim PDF always restores to the very PDF that was slimmed.
"""
from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import pikepdf
from PIL import Image, TiffImagePlugin

from errorkit import BadDocumentError
from ocr_worker.pdf_image import KEEP_STREAMS
from ocr_worker.rasterise import sniff
from ocr_worker.scan_pages import single_image

_SCAN = pikepdf.Name("/DmsScan")
_FROM = pikepdf.Name("/DmsFrom")
MARK = pikepdf.Name("/DmsSlim")  # in the document info of a slim PDF


class _Original(contextlib.AbstractContextManager["_Original"]):
    """The encoded image bytes of each page of an original, as the page PDFs hold them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = sniff(path)
        self.pdf = pikepdf.open(path) if self.kind == "pdf" else None

    def __exit__(self, *exc: object) -> None:
        if self.pdf is not None:
            self.pdf.close()

    def image_bytes(self, page_no: int) -> bytes | None:
        try:
            if self.pdf is not None:
                if page_no > len(self.pdf.pages):
                    return None
                found = single_image(self.pdf.pages[page_no - 1])
                return found[0].read_raw_bytes() if found is not None else None
            if self.kind == "tiff":
                return self._tiff_strip(page_no)
            if page_no != 1:
                return None
            data = self.path.read_bytes()
            return data if self.kind == "jpeg" else _png_idat(data)
        except (pikepdf.PdfError, OSError, ValueError, EOFError):
            return None

    def _tiff_strip(self, page_no: int) -> bytes | None:
        with Image.open(self.path) as im:
            if not isinstance(im, TiffImagePlugin.TiffImageFile):
                return None
            im.seek(page_no - 1)
            offsets, counts = im.tag_v2.get(273), im.tag_v2.get(279)
            if offsets is None or counts is None or len(offsets) != 1 or len(counts) != 1:
                return None
        with self.path.open("rb") as fh:
            fh.seek(int(offsets[0]))
            return fh.read(int(counts[0]))


def _png_idat(data: bytes) -> bytes | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos, idat = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(idat) or None


def _scan_image(page: pikepdf.Page) -> pikepdf.Stream | None:
    resources = page.obj.get(pikepdf.Name.Resources)
    xobjects = resources.get(pikepdf.Name.XObject) if resources is not None else None
    image = xobjects.get(_SCAN) if xobjects is not None else None
    return image if isinstance(image, pikepdf.Stream) else None


# An emptied image keeps its filter and parameters under these names: qpdf drops the
# /Filter of an empty stream on save (measured), and the restored bytes need them.
_FILTER, _PARMS = pikepdf.Name("/DmsFilter"), pikepdf.Name("/DmsDecodeParms")


def _empty(image: pikepdf.Stream, page_no: int) -> None:
    filt, parms = image.get(pikepdf.Name.Filter), image.get(pikepdf.Name.DecodeParms)
    if filt is not None:
        image[_FILTER] = filt
    if parms is not None:
        image[_PARMS] = parms
    image.write(b"")
    image[_FROM] = page_no


def _fill(image: pikepdf.Stream, data: bytes) -> None:
    filt, parms = image.get(_FILTER), image.get(_PARMS)
    image.write(data, filter=filt if isinstance(filt, (pikepdf.Name, pikepdf.Array)) else None,
                decode_parms=parms if isinstance(parms, (pikepdf.Dictionary, pikepdf.Array))
                else None)
    for key in (_FILTER, _PARMS, _FROM):
        if key in image:
            del image[key]


def slim(searchable: Path, original: Path, out: Path, *, page_numbers: list[int]) -> int:
    """Write ``searchable`` to ``out`` without the scan bytes found in ``original``;
    ``page_numbers``: the original page of each searchable page. Returns how many images
    were emptied (0: ``out`` is a plain copy, not marked slim)."""
    emptied = 0
    try:
        with _Original(original) as src, pikepdf.open(searchable) as pdf:
            for page, page_no in zip(pdf.pages, page_numbers, strict=True):
                image = _scan_image(page)
                if image is None:
                    continue
                data = src.image_bytes(page_no)
                if data is not None and data == image.read_raw_bytes():
                    _empty(image, page_no)
                    emptied += 1
            if emptied:
                pdf.docinfo[MARK] = True
            pdf.save(out, **KEEP_STREAMS)
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"{searchable.name}: cannot slim: {exc}") from exc
    return emptied


def is_slim(pdf_path: Path) -> bool:
    with pikepdf.open(pdf_path) as pdf:
        return bool(pdf.docinfo.get(MARK, False))


def restore(slim_pdf: Path, original: Path, out: Path) -> Path:
    """The full searchable PDF from a slim one and its original."""
    try:
        with _Original(original) as src, pikepdf.open(slim_pdf) as pdf:
            for page in pdf.pages:
                image = _scan_image(page)
                if image is None or _FROM not in image:
                    continue
                data = src.image_bytes(int(image[_FROM]))
                if data is None:
                    raise BadDocumentError(f"{original.name}: page {int(image[_FROM])} has "
                                           "no scan image to restore the searchable PDF from")
                _fill(image, data)
            if MARK in pdf.docinfo:
                del pdf.docinfo[MARK]
            pdf.save(out, **KEEP_STREAMS)
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"{slim_pdf.name}: cannot restore: {exc}") from exc
    return out
