"""Page images at the scan's own resolution, taken from the file as they are stored.

A scanner's PDF page is one image covering the page (a grey or colour JPEG, a CCITT G4
bilevel image, sometimes Flate); a scanner's TIFF is one such image per frame. Rendering
those with poppler at a fixed 300 dpi decoded the image, upsampled a 200-dpi scan to
2.25x the pixels and encoded a PNG -- up to 18 s of CPU for one noisy page, measured in
issue 18 -- and the searchable PDF then carried that PNG, 7x the original's bytes. Here
the image's own bytes are written out as a file the OCR engine reads (JPEG as ``.jpg``,
G4 wrapped in a one-strip TIFF header), with its DPI from the page size; the page PDF
embeds the same bytes again (:mod:`ocr_worker.pdf_image`). Pages that are not a single
image (text, vector drawings, several images) return None and are rendered by poppler.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image, TiffImagePlugin

# The drawn image may miss the page edge by a scanner's rounding; a page image covering
# less than this share of the page (a photo pasted on a form) is rendered instead.
_MIN_COVER = 0.97
# Pixels must be square within this: tesseract takes one DPI for both axes.
_SQUARE = 0.02
_MIN_DPI, _MAX_DPI = 70, 1200
# Operators that only set up the drawing of the one image (graphics state, matrix,
# rendering intent, flatness); any other (text, paths, shading, inline images) means the
# page shows more than the scan.
_SETUP_OPS = {"q", "Q", "cm", "gs", "ri", "i", "w", "J", "j", "M", "d"}
_GREY, _RGB = pikepdf.Name.DeviceGray, pikepdf.Name.DeviceRGB


@dataclass(frozen=True)
class ScanImage:
    """A page image as stored in the source file: where it was written and at what DPI."""

    path: Path
    dpi: int
    codec: str  # "jpeg" | "g4" | "png" | "pnm": how the bytes at ``path`` are encoded


def _matmul(m: list[float], n: list[float]) -> list[float]:
    """PDF matrices [a b c d e f]: ``m`` applied first, then ``n``."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return [a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2]


def single_image(page: pikepdf.Page) -> tuple[pikepdf.Object, list[float]] | None:
    """The page's one image XObject and the matrix it is drawn with, if drawing that
    image is all the page does; else None."""
    resources = page.obj.get(pikepdf.Name.Resources)
    xobjects = resources.get(pikepdf.Name.XObject) if resources is not None else None
    if xobjects is None:
        return None
    ctm, stack = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], []
    found: tuple[pikepdf.Object, list[float]] | None = None
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        return None
    for ins in instructions:
        if isinstance(ins, pikepdf.ContentStreamInlineImage):
            return None
        op = str(ins.operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm":
            ctm = _matmul([float(v) for v in ins.operands], ctm)
        elif op == "Do":
            xobj = xobjects.get(str(ins.operands[0]))
            if found is not None or xobj is None or xobj.get("/Subtype") != pikepdf.Name.Image:
                return None
            found = (xobj, ctm)
        elif op not in _SETUP_OPS:
            return None
    return found


def _page_box(page: pikepdf.Page) -> tuple[float, float, float, float]:
    box = [float(v) for v in page.obj.get("/CropBox", page.mediabox)]
    return min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])


def image_dpi_on_page(page: pikepdf.Page) -> tuple[pikepdf.Object, int] | None:
    """(image, DPI) when the page is one upright, unflipped image covering it with square
    pixels: the scanner's page. The DPI is the image's pixels over the drawn size."""
    if int(page.obj.get("/Rotate", 0)) % 360:
        return None  # shown turned: rendered, so the page image is what a reader sees
    found = single_image(page)
    if found is None:
        return None
    image, (a, b, c, d, e, f) = found
    if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None
    x0, y0, x1, y1 = _page_box(page)
    ix0, iy0, ix1, iy1 = max(e, x0), max(f, y0), min(e + a, x1), min(f + d, y1)
    covered = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    if covered < _MIN_COVER * (x1 - x0) * (y1 - y0):
        return None
    dpi_x = int(image.Width) * 72.0 / a
    dpi_y = int(image.Height) * 72.0 / d
    if abs(dpi_x - dpi_y) > _SQUARE * dpi_x or not _MIN_DPI <= dpi_x <= _MAX_DPI:
        return None
    return image, round(dpi_x)


def _filters(image: pikepdf.Object) -> tuple[list[str], pikepdf.Object | None]:
    filt = image.get("/Filter")
    parms = image.get("/DecodeParms")
    names = [str(f) for f in filt] if isinstance(filt, pikepdf.Array) else (
        [str(filt)] if filt is not None else [])
    if isinstance(parms, pikepdf.Array):
        parms = parms[0] if len(parms) == 1 else None
    return names, parms


def _colours(space: pikepdf.Object | None) -> int:
    """1 (grey) or 3 (RGB) for DeviceGray/DeviceRGB or an ICC profile of that many
    components (scanner drivers often tag their JPEGs with one); 0 for anything else."""
    if space == _GREY:
        return 1
    if space == _RGB:
        return 3
    if (isinstance(space, pikepdf.Array) and len(space) == 2
            and space[0] == pikepdf.Name.ICCBased and isinstance(space[1], pikepdf.Stream)):
        n = int(space[1].get("/N", 0))
        return n if n in (1, 3) else 0
    return 0


def _plain(image: pikepdf.Object) -> bool:
    """No mask and no decode array: the pixels mean what the codec says."""
    if any(k in image for k in ("/SMask", "/Mask", "/Decode")):
        return False
    return not bool(image.get("/ImageMask", False))


def extract_page_image(page: pikepdf.Page, out_base: Path) -> ScanImage | None:
    """Write the page's scan image next to ``out_base`` (suffix by codec) without decoding
    it, when the page is a scanner's page and the codec is one the OCR engine reads; else
    None (the caller renders the page)."""
    found = image_dpi_on_page(page)
    if found is None:
        return None
    image, dpi = found
    names, parms = _filters(image)
    colours = _colours(image.get("/ColorSpace"))
    bits = int(image.get("/BitsPerComponent", 1 if image.get("/ImageMask") else 8))
    w, h = int(image.Width), int(image.Height)
    if not _plain(image):
        return None
    if names == ["/DCTDecode"] and colours and bits == 8:
        transform = int(parms.get("/ColorTransform", 1)) if parms is not None else 1
        if colours == 3 and transform != 1:
            return None  # an RGB JPEG stored without YCbCr: a JPEG file would mean YCbCr
        out = out_base.with_suffix(".jpg")
        out.write_bytes(image.read_raw_bytes())
        return ScanImage(out, dpi, "jpeg")
    if names == ["/CCITTFaxDecode"] and bits == 1 and parms is not None:
        tiff = _g4_as_tiff(image, parms, w, h, dpi)
        if tiff is None:
            return None
        out = out_base.with_suffix(".tif")
        out.write_bytes(tiff)
        return ScanImage(out, dpi, "g4")
    if names == ["/FlateDecode"] and (bits == 8 and colours or bits == 1 and colours == 1):
        return _flate_image(image, parms, colours, bits, w, h, dpi, out_base)
    return None


def _g4_as_tiff(image: pikepdf.Object, parms: pikepdf.Object, w: int, h: int,
                dpi: int) -> bytes | None:
    """The G4 data in a one-strip TIFF, byte for byte (what every TIFF reader reads)."""
    if int(parms.get("/K", 0)) >= 0 or int(parms.get("/Columns", 1728)) != w:
        return None  # G3 (1-D/2-D): rare from scanners; decoded by poppler instead
    if bool(parms.get("/EncodedByteAlign", False)):
        return None  # not expressible in TIFF's T6 options
    rows = int(parms.get("/Rows", h))
    if rows not in (0, h):
        return None
    # G4 codes runs as "white" and "black"; libtiff decodes black runs to 1 bits, which
    # TIFF's photometric 0 shows black -- PDF's default (BlackIs1 false) shows them black
    # too. BlackIs1 true (Pillow writes it) shows the black runs white: photometric 1.
    black_is_1 = bool(parms.get("/BlackIs1", False))
    return g4_tiff(image.read_raw_bytes(), w, h, dpi, white_is_zero=not black_is_1)


def g4_tiff(data: bytes, width: int, height: int, dpi: int, *, white_is_zero: bool) -> bytes:
    """A little-endian one-page, one-strip TIFF around CCITT G4 ``data``.

    ``white_is_zero``: TIFF photometric 0, the usual fax sense (PDF BlackIs1 false)."""
    entries = [  # (tag, type, count, value); type 3 SHORT, 4 LONG, 5 RATIONAL
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 1), (259, 3, 1, 4),
        (262, 3, 1, 0 if white_is_zero else 1), (273, 4, 1, 0), (277, 3, 1, 1),
        (278, 4, 1, height), (279, 4, 1, len(data)), (282, 5, 1, 0), (283, 5, 1, 0),
        (296, 3, 1, 2),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    rational_at = 8 + ifd_size
    data_at = rational_at + 8
    ifd = [struct.pack("<H", len(entries))]
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_at
        elif tag in (282, 283):
            value = rational_at
        fmt = "<HHIHH" if typ == 3 else "<HHII"
        ifd.append(struct.pack(fmt, tag, typ, count, value, 0) if typ == 3
                   else struct.pack(fmt, tag, typ, count, value))
    ifd.append(struct.pack("<I", 0))
    return b"".join([b"II*\x00", struct.pack("<I", 8), *ifd, struct.pack("<II", dpi, 1),
                     data])


def _flate_image(image: pikepdf.Object, parms: pikepdf.Object | None, colours: int,
                 bits: int, w: int, h: int, dpi: int, out_base: Path) -> ScanImage | None:
    predictor = int(parms.get("/Predictor", 1)) if parms is not None else 1
    if parms is not None and predictor >= 10 and int(parms.get("/Colors", 1)) == colours and int(
            parms.get("/BitsPerComponent", 8)) == bits and int(parms.get("/Columns", 1)) == w:
        # PNG predictors: the stream is a PNG's IDAT data; wrapped, not decoded.
        colour_type = 0 if colours == 1 else 2
        out = out_base.with_suffix(".png")
        out.write_bytes(png_file(image.read_raw_bytes(), w, h, bits, colour_type, dpi))
        return ScanImage(out, dpi, "png")
    if predictor != 1:
        return None
    # Raw rows: decoded once into a PNM file (no compression) for the engine.
    try:
        pixels = image.read_bytes()
    except pikepdf.PdfError:
        return None
    mode = "1" if bits == 1 else ("L" if colours == 1 else "RGB")
    stride = (w + 7) // 8 if bits == 1 else w * colours
    if len(pixels) < stride * h:
        return None
    im = Image.frombytes(mode, (w, h), pixels[: stride * h])
    if bits == 1:  # PDF DeviceGray 1-bit: 0 is black, as Pillow's mode "1"
        im = im.convert("L")
    out = out_base.with_suffix(".pgm" if im.mode == "L" else ".ppm")
    im.save(out)
    return ScanImage(out, dpi, "pnm")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_file(idat: bytes, width: int, height: int, bits: int, colour_type: int,
             dpi: int) -> bytes:
    """A PNG file around already compressed, predictor-filtered image data."""
    ppm = round(dpi / 0.0254)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        _chunk(b"IDAT", idat),
        _chunk(b"IEND", b""),
    ])


# --- TIFF frames ----------------------------------------------------------------------

_STRIP_OFFSETS, _STRIP_COUNTS, _FILL_ORDER, _PHOTOMETRIC = 273, 279, 266, 262
# Strips as large as a page: one G4 stream per page, as the PDF needs it.
_ONE_STRIP = 1 << 30


def tiff_frame(frame: Image.Image, src: Path, out_base: Path, dpi: int) -> ScanImage:
    """The current frame of an open TIFF as a page image file. A G4 frame stored in one
    strip is copied byte for byte into a one-page TIFF; a G4 frame in several strips is
    decoded and encoded once as one strip (the PDF takes one G4 stream per image); other
    compressions (LZW, JPEG, none) are decoded once into a PGM/PPM file."""
    if (isinstance(frame, TiffImagePlugin.TiffImageFile)
            and frame.info.get("compression") == "group4" and frame.mode == "1"):
        tags = frame.tag_v2
        offsets, counts = tags.get(_STRIP_OFFSETS), tags.get(_STRIP_COUNTS)
        white_is_zero = tags.get(_PHOTOMETRIC, 0) == 0
        out = out_base.with_suffix(".tif")
        if (offsets is not None and counts is not None and len(offsets) == len(counts) == 1
                and tags.get(_FILL_ORDER, 1) == 1):
            with src.open("rb") as fh:
                fh.seek(int(offsets[0]))
                data = fh.read(int(counts[0]))
            out.write_bytes(g4_tiff(data, frame.width, frame.height, dpi,
                                    white_is_zero=white_is_zero))
        else:
            frame.load()
            frame.save(out, "TIFF", compression="group4", dpi=(dpi, dpi),
                       strip_size=_ONE_STRIP)
        return ScanImage(out, dpi, "g4")
    frame.load()
    im = frame if frame.mode in ("L", "RGB") else _flatten(frame)
    out = out_base.with_suffix(".pgm" if im.mode == "L" else ".ppm")
    im.save(out)
    return ScanImage(out, dpi, "pnm")


def _flatten(im: Image.Image) -> Image.Image:
    """Grey on white: transparent areas become paper, not black."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        bg.alpha_composite(rgba)
        return bg.convert("L")
    return im.convert("L")
