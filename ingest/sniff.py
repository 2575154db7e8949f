"""Hashing, format detection by magic bytes, and validation of scanned files.

Validation reads headers and structure only, never decodes full pages: a
200-megapixel bomb must be refused from its header, and eight worker threads
validating in parallel must stay within a few MB each.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image, TiffImagePlugin

HASH_CHUNK = 1024 * 1024
HEAD_BYTES = 8192

#: content kind -> (mime, canonical suffix used in the object key)
KINDS: dict[str, tuple[str, str]] = {
    "PDF": ("application/pdf", ".pdf"),
    "TIFF": ("image/tiff", ".tif"),
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
}
EXTENSIONS = {".pdf": "PDF", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG",
              ".jpe": "JPEG", ".png": "PNG"}
# Formats we recognise only to give a precise quarantine reason.
_OTHER_MAGIC = [(b"GIF8", "GIF"), (b"BM", "BMP"), (b"PK\x03\x04", "ZIP"),
                (b"\xd0\xcf\x11\xe0", "OLE (old Office)"), (b"Rar!", "RAR"),
                (b"7z\xbc\xaf", "7Z"), (b"\x1f\x8b", "GZIP")]


class Rejected(Exception):
    """The file must be quarantined; ``str(exc)`` is the reason shown to people."""


@dataclass(frozen=True, slots=True)
class Inspection:
    kind: str
    mime: str
    suffix: str
    pages: int


def hash_file(path: Path) -> tuple[str, bytes]:
    """(sha256 hex, first HEAD_BYTES) in one streamed pass; memory stays at one chunk."""
    digest = hashlib.sha256()
    head = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            if len(head) < HEAD_BYTES:
                head += chunk[:HEAD_BYTES - len(head)]
            digest.update(chunk)
    return digest.hexdigest(), head


def read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def sniff_kind(head: bytes) -> str:
    """The content kind from magic bytes: one of KINDS, another name, or 'unknown'."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if b"%PDF-" in head[:1024]:  # the spec allows junk before the header
        return "PDF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    return "unknown"


def inspect(path: Path, rel_path: str, head: bytes, size: int, *,
            max_pages: int, max_pixels: int) -> Inspection:
    """Check format, extension agreement and integrity; raise Rejected with a reason."""
    if size == 0:
        raise Rejected("zero-byte file")
    kind = sniff_kind(head)
    ext = Path(rel_path).suffix.lower()
    if kind not in KINDS:
        what = "unrecognised content" if kind == "unknown" else f"content is {kind}"
        raise Rejected(f"unsupported format: {what} (accepted: PDF, TIFF, JPEG, PNG)")
    expected = EXTENSIONS.get(ext)
    if ext and expected != kind:
        raise Rejected(f"content is {kind} but extension is {ext}")
    if kind == "PDF":
        pages = _check_pdf(path, max_pages)
    else:
        pages = _check_image(path, kind, size, max_pages, max_pixels)
    mime, suffix = KINDS[kind]
    return Inspection(kind=kind, mime=mime, suffix=suffix, pages=pages)


def _tail(path: Path, n: int = 2048) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        end = fh.tell()
        fh.seek(max(0, end - n))
        return fh.read()


def _check_pdf(path: Path, max_pages: int) -> int:
    # qpdf silently "recovers" many truncated files, so check the trailer marker first.
    if b"%%EOF" not in _tail(path):
        raise Rejected("truncated PDF: no %%EOF marker at the end")
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                raise Rejected("encrypted PDF (owner password or restrictions)")
            pages = len(pdf.pages)
            damaged = [w for w in pdf.get_warnings() if "damaged" in w or "recover" in w]
    except pikepdf.PasswordError:
        raise Rejected("encrypted PDF (needs a password)") from None
    except pikepdf.PdfError as exc:
        raise Rejected(f"corrupt PDF: {_short(exc)}") from None
    if damaged:
        raise Rejected(f"damaged PDF: {_short(damaged[0])}")
    if pages == 0:
        raise Rejected("PDF has no pages")
    if pages > max_pages:
        raise Rejected(f"PDF has {pages} pages, more than the limit of {max_pages}")
    return pages


def _check_image(path: Path, kind: str, size: int, max_pages: int, max_pixels: int) -> int:
    try:
        with warnings.catch_warnings():
            # We enforce our own limit below; PIL's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                frames = _frames(im, kind, max_pages, max_pixels)
                if kind == "TIFF":
                    _check_tiff_extents(im, size, frames)
            if kind == "PNG":
                with Image.open(path) as im:
                    im.verify()  # walks every chunk and checks CRCs without decoding
            elif kind == "JPEG":
                _check_jpeg(path)
    except Rejected:
        raise
    except Image.DecompressionBombError as exc:
        raise Rejected(f"decompression bomb: {_short(exc)}") from None
    except Exception as exc:  # PIL raises many types (SyntaxError, OSError, struct.error…)
        raise Rejected(f"corrupt or truncated {kind}: {_short(exc)}") from None
    return frames


def _frames(im: Image.Image, kind: str, max_pages: int, max_pixels: int) -> int:
    n = getattr(im, "n_frames", 1) if kind == "TIFF" else 1
    if n > max_pages:
        raise Rejected(f"TIFF has {n} pages, more than the limit of {max_pages}")
    for i in range(n):
        if i:
            im.seek(i)  # reads the next IFD only, no pixel data
        w, h = im.size
        if w * h > max_pixels:
            raise Rejected(f"decompression bomb: page {i + 1} is {w}x{h} = {w * h} pixels,"
                           f" more than the limit of {max_pixels}")
    return n


def _check_tiff_extents(im: Image.Image, size: int, frames: int) -> None:
    """Every strip/tile of every page must lie inside the file (catches truncation)."""
    for i in range(frames):
        im.seek(i)
        tags = im.tag_v2 if isinstance(im, TiffImagePlugin.TiffImageFile) else {}
        offsets = tags.get(273) or tags.get(324) or ()
        counts = tags.get(279) or tags.get(325) or ()
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        for off, cnt in zip(offsets, counts, strict=False):
            if off + cnt > size:
                raise Rejected(f"truncated TIFF: page {i + 1} data ends at byte {off + cnt}"
                               f" but the file has {size} bytes")


def _check_jpeg(path: Path) -> None:
    # Header (already parsed by Image.open) plus the end-of-image marker. A full or
    # draft decode would catch more damage but costs ~2.5 ms of CPU per scan, which
    # on a small station server is taken straight from upload throughput; the OCR
    # worker decodes every page anyway and fails the document with a clear error.
    if b"\xff\xd9" not in _tail(path, 64):
        raise Rejected("truncated JPEG: no end-of-image marker")


def _short(exc: object, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:limit]
