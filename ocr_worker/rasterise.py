"""Turn an uploaded file into page images, one file per page, without holding them all:
a scanner's page as it is stored (its JPEG, G4 or PNG bytes at its own DPI, see
``ocr_worker/scan_pages.py``), any other PDF page rendered by pdftoppm to PGM.

Supported: PDF, TIFF (multi-page), JPEG, PNG.
Broken input -> :class:`BadDocumentError` (not retryable) with a reason a clerk can read.

Existing PDF text layers (decision)
-----------------------------------
We always OCR the rendered page images, even when the PDF already has text: text layers
written by scanner software are often poor (wrong CJK encodings, missing ToUnicode maps)
and we want words with boxes and confidences from one engine. :func:`pdf_text_layer`
returns the existing text per page and the caller stores it as ``existing_text`` on the
page result; when that text is substantial and the OCR confidence is low, the page is
flagged for review (see :func:`ocr_worker.pipeline.process_page`) rather than silently
choosing one of the two. The original file is never modified.
"""
from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import pikepdf
from PIL import Image, ImageSequence

from errorkit import BadDocumentError, ExternalToolError, ExternalToolTimeout, OcrError
from ocr_worker.scan_pages import ScanImage, extract_page_image, image_dpi_on_page, tiff_frame
from ocr_worker.tools import run_tool, tool_env

_MIN_SANE_DPI = 50  # below this an image's DPI tag is junk (JFIF often says 1x1 or 72)
_MAX_SANE_DPI = 2400


def sniff(src: Path) -> str:
    """'pdf' | 'tiff' | 'jpeg' | 'png' from magic bytes, not the file name."""
    try:
        with src.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise BadDocumentError(f"cannot read {src.name}: {exc}") from exc
    if not head:
        raise BadDocumentError(f"{src.name} is empty")
    if b"%PDF-" in head:
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    raise BadDocumentError(f"{src.name}: unsupported file type (expected PDF, TIFF, JPEG, PNG)")


def rasterise(
    src: Path,
    out_dir: Path,
    *,
    dpi: int,
    max_pages: int,
    max_pixels: int,
    timeout: float,
) -> list[Path]:
    """The page image files of :func:`rasterise_pages`, in page order."""
    pages = rasterise_pages(src, out_dir, dpi=dpi, max_pages=max_pages,
                            max_pixels=max_pixels, timeout=timeout)
    return [p.path for p in pages]


def rasterise_pages(
    src: Path,
    out_dir: Path,
    *,
    dpi: int,
    max_pages: int,
    max_pixels: int,
    timeout: float,
) -> list[ScanImage]:
    """Write ``out_dir/page-0001.<ext>`` ... and return them in page order with their DPI.

    A scanner's page (one image covering a PDF page, a TIFF frame, a one-page JPEG or
    PNG) keeps its own resolution and, where the engine reads the codec, its own bytes
    (``ocr_worker/scan_pages.py``). Other PDF pages are rendered with poppler at ``dpi``
    to PGM (no compression to spend CPU on). ``dpi`` is also the assumed resolution of
    images that do not say theirs. ``timeout`` bounds the whole call.
    """
    pages = split_pages(src, out_dir, dpi=dpi, max_pages=max_pages, max_pixels=max_pixels,
                        timeout=timeout, render=True)
    return [p for p in pages if p is not None]


def split_pages(
    src: Path,
    out_dir: Path,
    *,
    dpi: int,
    max_pages: int,
    max_pixels: int,
    timeout: float,
    render: bool = False,
) -> list[ScanImage | None]:
    """The pages of ``src`` as :func:`rasterise_pages` makes them, except that a PDF page
    that needs poppler is left to render (``None`` in its place) unless ``render``: the
    split task takes out the scanner images (milliseconds a page) and each page task
    renders its own page (:func:`render_pdf_page`), so a 100-page text PDF is rendered
    on every worker at once, not page after page before the first page is read (issue
    18). Every page is checked against ``max_pixels`` here, rendered or not."""
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = sniff(src)
    deadline = time.monotonic() + timeout
    if kind == "pdf":
        return _rasterise_pdf(src, out_dir, dpi, max_pages, max_pixels, deadline, render)
    return list(_rasterise_image(src, out_dir, dpi, max_pages, max_pixels))


def render_pdf_page(src: Path, page_no: int, out_dir: Path, *, dpi: int,
                    timeout: float) -> ScanImage:
    """Page ``page_no`` (from 1) of the PDF ``src`` rendered at ``dpi``, grey, to
    ``out_dir/page-NNNN.pgm``: the page task's half of :func:`split_pages`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return _render_page(src, out_dir, page_no, dpi, time.monotonic() + timeout)


def page_path(out_dir: Path, page_no: int, suffix: str = ".png") -> Path:
    return out_dir / f"page-{page_no:04d}{suffix}"


# --- PDF ----------------------------------------------------------------------------


def _open_pdf(src: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(src)
    except pikepdf.PasswordError as exc:
        raise BadDocumentError(f"encrypted PDF: {src.name} needs a password") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise BadDocumentError(f"corrupt PDF: {src.name}: {exc}") from exc


def pdf_page_sizes(src: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, rotation applied. Raises BadDocumentError."""
    with _open_pdf(src) as pdf:
        # Owner-password-only PDFs (printing/copy restrictions) open and render fine; we
        # only refuse the ones we cannot read at all (PasswordError above).
        try:
            sizes = []
            for page in pdf.pages:
                box = [float(v) for v in page.obj.get("/CropBox", page.mediabox)]
                w, h = abs(box[2] - box[0]), abs(box[3] - box[1])
                if int(page.obj.get("/Rotate", 0)) % 180:
                    w, h = h, w
                sizes.append((w, h))
        except (pikepdf.PdfError, ValueError, TypeError, IndexError) as exc:
            raise BadDocumentError(f"corrupt PDF: {src.name}: {exc}") from exc
    if not sizes:
        raise BadDocumentError(f"corrupt PDF: {src.name} has no pages")
    return sizes


def _rasterise_pdf(
    src: Path, out_dir: Path, dpi: int, max_pages: int, max_pixels: int, deadline: float,
    render: bool,
) -> list[ScanImage | None]:
    sizes = pdf_page_sizes(src)
    if len(sizes) > max_pages:
        raise BadDocumentError(f"{src.name} has {len(sizes)} pages; the limit is {max_pages}")
    pages: list[ScanImage | None] = []
    with _open_pdf(src) as pdf:
        for i, (w, h) in enumerate(sizes, 1):
            try:
                found = image_dpi_on_page(pdf.pages[i - 1])
                scan = None
                if found is not None:
                    image, _ = found
                    _check_pixels(src, i, int(image.Width), int(image.Height), max_pixels)
                    scan = extract_page_image(pdf.pages[i - 1], page_path(out_dir, i, ""))
            except (pikepdf.PdfError, ValueError, TypeError, KeyError) as exc:
                raise BadDocumentError(f"corrupt PDF: {src.name} page {i}: {exc}") from exc
            if scan is None:
                _check_pixels(src, i, math.ceil(w * dpi / 72), math.ceil(h * dpi / 72),
                              max_pixels, dpi)
                if render:
                    scan = _render_page(src, out_dir, i, dpi, deadline)
            pages.append(scan)
    return pages


def _check_pixels(src: Path, page_no: int, w: int, h: int, max_pixels: int,
                  dpi: int | None = None) -> None:
    if w * h > max_pixels:
        at = f" at {dpi} dpi" if dpi else ""
        raise BadDocumentError(
            f"{src.name} page {page_no} would be {w * h} pixels{at} "
            f"(limit {max_pixels}); refusing a possible decompression bomb"
        )


def _render_page(src: Path, out_dir: Path, i: int, dpi: int, deadline: float) -> ScanImage:
    """One page through pdftoppm, grey, as PGM: PNG's compression cost 0.1-18 s of CPU
    per page (issue 18) for a file that lives until the page is read."""
    out = page_path(out_dir, i, ".pgm")
    try:
        run_tool(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(i), "-l", str(i),
             "-singlefile", str(src), str(out.with_suffix(""))],
            timeout=deadline - time.monotonic(),
            env=tool_env(),
        )
    except ExternalToolError as exc:
        if isinstance(exc, ExternalToolTimeout):  # timeouts stay retryable
            raise
        raise BadDocumentError(f"cannot render {src.name} page {i}: {exc}") from exc
    if not out.exists():
        raise BadDocumentError(f"cannot render {src.name} page {i}: no output")
    return ScanImage(out, dpi, "pnm")


def pdf_text_layer(src: Path, *, timeout: float = 60.0) -> list[str]:
    """Existing text of each page (empty string for image-only pages).

    Uses pdftotext, which handles CID fonts and ToUnicode maps better than anything we
    would write; pages are separated by form feeds in its output.
    """
    n_pages = len(pdf_page_sizes(src))
    try:
        out = run_tool(
            ["pdftotext", "-enc", "UTF-8", str(src), "-"], timeout=timeout, env=tool_env()
        )
    except ExternalToolError as exc:
        if isinstance(exc, ExternalToolTimeout):
            raise
        # The existing layer is advisory: a PDF poppler cannot extract from still gets OCR.
        return [""] * n_pages
    text = out.stdout.decode("utf-8", "replace")
    pages = [p.strip() for p in text.split("\f")][:n_pages]
    return pages + [""] * (n_pages - len(pages))


# --- images -------------------------------------------------------------------------


def image_dpi(im: Image.Image, default: int) -> int:
    dpi = im.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if _MIN_SANE_DPI <= value <= _MAX_SANE_DPI else default


def _rasterise_image(
    src: Path, out_dir: Path, dpi: int, max_pages: int, max_pixels: int
) -> list[ScanImage]:
    try:
        return _decode_image(src, out_dir, dpi, max_pages, max_pixels)
    except OcrError:
        raise
    except OSError as exc:
        if exc.errno is not None:  # the machine's I/O (a full work disk), not the file
            raise OcrError(f"cannot write the page images of {src.name}: {exc}") from exc
        raise BadDocumentError(f"corrupt image {src.name}: {exc}") from exc
    except Exception as exc:
        # PIL answers some damaged files with KeyError, TypeError, struct.error… (found by
        # tests/fuzz: a truncated multi-page TIFF fails in n_frames with "Missing
        # dimensions"); every one of them is the file's fault, never worth a retry.
        raise BadDocumentError(
            f"corrupt image {src.name}: {type(exc).__name__}: {exc}") from exc


def _decode_image(
    src: Path, out_dir: Path, dpi: int, max_pages: int, max_pixels: int
) -> list[ScanImage]:
    try:
        im = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise BadDocumentError(f"{src.name}: decompression bomb refused: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"corrupt image {src.name}: {exc}") from exc
    pages: list[ScanImage] = []
    with im:
        n = getattr(im, "n_frames", 1)
        if n > max_pages:
            raise BadDocumentError(f"{src.name} has {n} pages; the limit is {max_pages}")
        if n == 1 and _usable_as_is(im):
            page_dpi = image_dpi(im, dpi)
            return [ScanImage(_image_as_is(src, im, out_dir, max_pixels), page_dpi,
                              "jpeg" if im.format == "JPEG" else "png")]
        try:
            for i, frame in enumerate(ImageSequence.Iterator(im), 1):
                w, h = frame.size
                if w * h > max_pixels:
                    raise BadDocumentError(
                        f"{src.name} page {i} is {w}x{h} pixels (limit {max_pixels}); "
                        "refusing a possible decompression bomb"
                    )
                # frame by frame: only one decoded page in memory
                pages.append(tiff_frame(frame, src, page_path(out_dir, i, ""),
                                        image_dpi(frame, dpi)))
        except BadDocumentError:
            raise
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise BadDocumentError(
                f"corrupt image {src.name} (page {len(pages) + 1}): {exc}"
            ) from exc
    return pages


# One-page images the OCR steps and the searchable PDF take as they are (see
# ocr_worker.pdf_image): grey, bilevel and RGB PNG, grey and RGB JPEG.
_AS_IS = {"PNG": (".png", ("L", "1", "RGB")), "JPEG": (".jpg", ("L", "RGB"))}
_EXIF_ORIENTATION = 0x0112


def _usable_as_is(im: Image.Image) -> bool:
    kind = _AS_IS.get(im.format or "")
    if kind is None or im.mode not in kind[1] or "transparency" in im.info:
        return False
    # A JPEG whose EXIF says "turn me" shows turned in a browser but not to tesseract:
    # decoded and stored upright-as-stored instead, so boxes and the viewer agree.
    return im.format != "JPEG" or im.getexif().get(_EXIF_ORIENTATION, 1) == 1


def _image_as_is(src: Path, im: Image.Image, out_dir: Path, max_pixels: int) -> Path:
    """A one-page grey/bilevel/RGB PNG or grey/RGB JPEG is copied, not decoded, turned
    grey and encoded as PNG again (an A4 page at 300 dpi: 60-300 ms saved, and a colour
    scan keeps its colour -- red seals -- in the searchable PDF). Truncation or damage is
    still caught now, not in the OCR step: a PNG's chunks are checked to the end (lengths,
    CRCs, IEND) without decoding the pixels, which the page step does anyway; a JPEG
    without its end marker is decoded to see whether it is whole. The rare PNG with intact
    chunks but broken compressed data fails in the page step, as a corrupt page image."""
    w, h = im.size
    if w * h > max_pixels:
        raise BadDocumentError(f"{src.name} page 1 is {w}x{h} pixels (limit {max_pixels}); "
                               "refusing a possible decompression bomb")
    try:
        if im.format == "PNG":
            im.verify()
        elif not _ends_with_jpeg_eoi(src):
            im.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadDocumentError(f"corrupt image {src.name} (page 1): {exc}") from exc
    out = page_path(out_dir, 1, _AS_IS[str(im.format)][0])
    shutil.copyfile(src, out)
    return out


def _ends_with_jpeg_eoi(src: Path) -> bool:
    with src.open("rb") as fh:
        fh.seek(max(0, src.stat().st_size - 64))
        return fh.read().rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")


def _to_grey(im: Image.Image) -> Image.Image:
    """Greyscale on white: transparent areas become paper, not black."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        bg.alpha_composite(rgba)
        return bg.convert("L")
    if im.mode == "1":
        return im.convert("L")
    return im if im.mode == "L" else im.convert("L")
