"""Format detection and validation: every bad input gets a precise reason."""
from __future__ import annotations

import io
import struct
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from ingest.sniff import Inspection, Rejected, hash_file, inspect, sniff_kind
from tests.ingest.conftest import (encrypted_pdf_bytes, image_pdf_bytes, jpeg_bytes, pdf_bytes,
                                   png_bytes, tiff_bytes)


def check(tmp_path: Path, name: str, data: bytes, *, max_pages: int = 100,
          max_pixels: int = 10_000_000) -> Inspection:
    path = tmp_path / name
    path.write_bytes(data)
    _sha, head = hash_file(path)
    return inspect(path, name, head, len(data), max_pages=max_pages, max_pixels=max_pixels)


def reason(tmp_path: Path, name: str, data: bytes, **kw: int) -> str:
    with pytest.raises(Rejected) as info:
        check(tmp_path, name, data, **kw)
    return str(info.value)


@pytest.mark.parametrize("name, data, kind, pages", [
    ("a.pdf", pdf_bytes(pages=3), "PDF", 3),
    ("b.PDF", image_pdf_bytes(), "PDF", 1),
    ("c.tif", tiff_bytes(pages=4), "TIFF", 4),
    ("d.tiff", tiff_bytes(pages=1), "TIFF", 1),
    ("e.jpg", jpeg_bytes(), "JPEG", 1),
    ("f.jpeg", jpeg_bytes(), "JPEG", 1),
    ("g.png", png_bytes(), "PNG", 1),
    ("no_extension", pdf_bytes(), "PDF", 1),
])
def test_good_files(tmp_path: Path, name: str, data: bytes, kind: str, pages: int) -> None:
    insp = check(tmp_path, name, data)
    assert insp.kind == kind and insp.pages == pages


def test_zero_byte(tmp_path: Path) -> None:
    assert reason(tmp_path, "a.pdf", b"") == "zero-byte file"


def test_extension_mismatch(tmp_path: Path) -> None:
    assert reason(tmp_path, "a.pdf", png_bytes()) == "content is PNG but extension is .pdf"
    assert reason(tmp_path, "a.png", jpeg_bytes()) == "content is JPEG but extension is .png"
    assert reason(tmp_path, "a.txt", pdf_bytes()) == "content is PDF but extension is .txt"


def test_unsupported(tmp_path: Path) -> None:
    assert "content is GIF" in reason(tmp_path, "a.gif", b"GIF89a" + b"\0" * 100)
    assert "unrecognised content" in reason(tmp_path, "a.pdf", b"hello world")


def test_truncated_and_corrupt_pdf(tmp_path: Path) -> None:
    data = pdf_bytes(pages=2)
    assert "truncated PDF" in reason(tmp_path, "t.pdf", data[: len(data) // 2])
    corrupt = data[:300] + b"\x00garbage" * 40 + data[-200:]
    assert "PDF" in reason(tmp_path, "c.pdf", corrupt)


def test_encrypted_pdf(tmp_path: Path) -> None:
    assert "encrypted PDF" in reason(tmp_path, "e1.pdf", encrypted_pdf_bytes(""))
    assert "encrypted PDF" in reason(tmp_path, "e2.pdf", encrypted_pdf_bytes("secret"))


def test_too_many_pages(tmp_path: Path) -> None:
    assert "5 pages, more than the limit of 4" in reason(
        tmp_path, "a.pdf", pdf_bytes(pages=5), max_pages=4)
    assert "TIFF has 3 pages" in reason(tmp_path, "a.tif", tiff_bytes(pages=3), max_pages=2)


def test_truncated_images(tmp_path: Path) -> None:
    png, jpg, tif = png_bytes(), jpeg_bytes(), tiff_bytes(pages=2)
    assert "PNG" in reason(tmp_path, "a.png", png[: len(png) // 2])
    assert "truncated JPEG" in reason(tmp_path, "a.jpg", jpg[: len(jpg) // 2])
    assert "TIFF" in reason(tmp_path, "a.tif", tif[: len(tif) - 3000])


def test_corrupt_png_crc(tmp_path: Path) -> None:
    png = bytearray(png_bytes())
    png[60] ^= 0xFF  # inside IDAT: its CRC no longer matches
    assert "corrupt or truncated PNG" in reason(tmp_path, "a.png", bytes(png))


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header claims w x h: a bomb is refused without decoding anything."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


def test_decompression_bomb_from_header(tmp_path: Path) -> None:
    r = reason(tmp_path, "bomb.png", _png_header_only(50_000, 50_000), max_pixels=10_000_000)
    assert r.startswith("decompression bomb")
    # Even beyond PIL's own hard limit we answer with our reason, not a crash.
    r = reason(tmp_path, "huge.png", _png_header_only(200_000, 200_000))
    assert r.startswith("decompression bomb")


def test_tiff_bomb_on_a_later_page(tmp_path: Path) -> None:
    small = Image.new("1", (10, 10))
    big = Image.new("1", (4000, 3000))  # 12 Mpx, tiny on disk
    buf = io.BytesIO()
    small.save(buf, "TIFF", save_all=True, append_images=[big], compression="group4")
    r = reason(tmp_path, "a.tif", buf.getvalue(), max_pixels=10_000_000)
    assert "page 2 is 4000x3000" in r


def test_sniff_kind_with_junk_before_pdf_header() -> None:
    assert sniff_kind(b"\r\n%PDF-1.7\n") == "PDF"
    assert sniff_kind(b"PK\x03\x04....") == "ZIP"


def test_pdf_count_uses_pikepdf(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    for _ in range(2):
        pdf.add_blank_page()
    buf = io.BytesIO()
    pdf.save(buf)
    assert check(tmp_path, "blank.pdf", buf.getvalue()).pages == 2
