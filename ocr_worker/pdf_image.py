"""Put a page image under a one-page text-only PDF, without encoding the image again.

A grey PNG's compressed pixel data (its IDAT chunks) is already a valid PDF FlateDecode
stream with the PNG predictor, and a JPEG file is a valid DCTDecode stream: both go into
the PDF byte for byte, as img2pdf does. Letting tesseract's PDF renderer embed the image
instead cost 0.2-0.4 s of CPU per A4 page (it decodes and compresses the pixels again)
and wrote pages of 4 MB. The same holds for bilevel and RGB PNGs. Other images (palette,
16-bit, interlaced, transparent, TIFF) are decoded and compressed once here.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
from PIL import Image

from errorkit import BadDocumentError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Save options for PDFs holding page images: qpdf's default decodes every Flate stream and
# compresses it again on save (dropping the PNG predictor): 0.1-0.3 s per page image, for
# nothing. Streams are written as they are.
KEEP_STREAMS: dict[str, Any] = {"stream_decode_level": pikepdf.StreamDecodeLevel.none}
_NAME = pikepdf.Name("/DmsScan")


# PNG (bit depth, colour type) the PDF takes as it is: (bits, colours, colour space).
_PNG_AS_PDF = {(8, 0): (8, 1, pikepdf.Name.DeviceGray), (1, 0): (1, 1, pikepdf.Name.DeviceGray),
               (8, 2): (8, 3, pikepdf.Name.DeviceRGB)}


def _png_stream(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream | None:
    """The PNG's IDAT data as an image stream, if it is 8-bit grey, bilevel or 8-bit RGB
    and not interlaced (PNG's filters per row are PDF's PNG predictors; its bilevel
    0 = black is DeviceGray's too)."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, idat = len(_PNG_SIGNATURE), []
    width = height = 0
    layout: tuple[int, int, pikepdf.Name] | None = None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            layout = _PNG_AS_PDF.get((depth, colour))
            if layout is None or interlace != 0:
                return None
        elif kind == b"tRNS":
            return None  # transparency: flattened onto white by the decoding path
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not (width and height and idat and layout):
        return None
    bits, colours, space = layout
    return _encoded(pdf, b"".join(idat), width, height, space, pikepdf.Name.FlateDecode,
                    pikepdf.Dictionary(Predictor=15, Colors=colours, BitsPerComponent=bits,
                                       Columns=width), bits=bits)


def _encoded(pdf: pikepdf.Pdf, data: bytes, width: int, height: int,
             colour: pikepdf.Name, codec: pikepdf.Name,
             parms: pikepdf.Dictionary | None = None, *, bits: int = 8) -> pikepdf.Stream:
    """An image stream from data already encoded with ``codec`` (written as it is)."""
    stream = pikepdf.Stream(pdf, b"")
    stream.write(data, filter=codec, decode_parms=parms)
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    stream.Width, stream.Height = width, height
    stream.ColorSpace, stream.BitsPerComponent = colour, bits
    return stream


def _eight_bit(im: Image.Image) -> Image.Image:
    """Grey or RGB at 8 bits per sample; 16-bit grey is scaled, not clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(im, dtype=np.uint32)
        top = 65535 if im.mode.startswith("I;16") or wide.max() > 255 else 255
        return Image.fromarray((wide * 255 // max(top, 1)).astype(np.uint8))
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in ("1", "LA") or (im.mode == "P" and im.palette is not None
                                   and im.palette.mode == "L"):
        return im.convert("L")
    return im.convert("RGB")


def _decoded_stream(pdf: pikepdf.Pdf, image: Path) -> pikepdf.Stream:
    try:
        with Image.open(image) as im:
            im.load()
            if im.format == "JPEG" and im.mode in ("L", "RGB"):
                colour = pikepdf.Name.DeviceGray if im.mode == "L" else pikepdf.Name.DeviceRGB
                return _encoded(pdf, image.read_bytes(), im.width, im.height, colour,
                                pikepdf.Name.DCTDecode)
            pixels = _eight_bit(im)
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    colour = pikepdf.Name.DeviceGray if pixels.mode == "L" else pikepdf.Name.DeviceRGB
    return _encoded(pdf, zlib.compress(pixels.tobytes()), pixels.width, pixels.height,
                    colour, pikepdf.Name.FlateDecode)


def image_stream(pdf: pikepdf.Pdf, image: Path) -> pikepdf.Stream:
    """``image`` as an image XObject of ``pdf``, re-encoded only when it must be."""
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    return _png_stream(pdf, data) or _decoded_stream(pdf, image)


def draw_under(pdf: pikepdf.Pdf, xobject: pikepdf.Object) -> None:
    """Add ``xobject`` to the first page of ``pdf``, filling the page, under its content."""
    page = pdf.pages[0]
    if pikepdf.Name.Resources not in page.obj:
        page.obj[pikepdf.Name.Resources] = pikepdf.Dictionary()
    resources = page.obj[pikepdf.Name.Resources]
    if pikepdf.Name.XObject not in resources:
        resources[pikepdf.Name.XObject] = pikepdf.Dictionary()
    resources[pikepdf.Name.XObject][_NAME] = xobject
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    draw = f"q {x1 - x0:.4f} 0 0 {y1 - y0:.4f} {x0:.4f} {y0:.4f} cm /DmsScan Do Q\n"
    page.contents_add(pikepdf.Stream(pdf, draw.encode()), prepend=True)


def put_image_under_text(text_pdf: Path, image: Path, out: Path) -> Path:
    """``out``: the one-page ``text_pdf`` (invisible text, no image) with ``image`` under
    it, filling the page. ``out`` may be ``text_pdf``."""
    try:
        with pikepdf.open(text_pdf, allow_overwriting_input=True) as pdf:
            if len(pdf.pages) != 1:
                raise BadDocumentError(f"{text_pdf.name}: a text layer of one page expected")
            draw_under(pdf, image_stream(pdf, image))
            pdf.save(out, **KEEP_STREAMS)
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"text layer {text_pdf.name} unreadable: {exc}") from exc
    return out
