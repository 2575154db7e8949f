"""The CJK font files: found where Debian installs them, named by package when missing."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from dms.services.labels import register_font
from hanzi.fonts import (
    EMBEDDABLE, FACES, NOTO_SANS, WQY_ZENHEI, Face, MissingFontError, embeddable_face,
    face_file, reportlab_font,
)
from ocr_worker.text_layer import text_font


def test_every_face_names_its_debian_package() -> None:
    for face in FACES.values():
        assert face.package.startswith("fonts-")
        assert str(face.regular).startswith("/usr/share/fonts/")
    assert all(face.truetype for face in EMBEDDABLE)
    assert not NOTO_SANS.truetype  # CFF: reportlab cannot embed it


def test_pdf_writers_share_one_embedded_font(tmp_path: Path) -> None:
    # The machine's packages (scripts/install.sh installs fonts-wqy-zenhei).
    assert embeddable_face() == WQY_ZENHEI
    name = reportlab_font()
    assert name == text_font() == register_font() == WQY_ZENHEI.pdf_name
    out = tmp_path / "zh.pdf"
    buf = io.BytesIO()
    c = Canvas(buf)
    c.setFont(name, 14)
    c.drawString(72, 720, "供用电合同 戶號")
    c.save()
    out.write_bytes(buf.getvalue())
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "供用电合同 戶號" in text


def test_a_missing_font_names_the_apt_package(tmp_path: Path) -> None:
    absent = Face("Absent Hei", tmp_path / "absent.ttc", tmp_path / "absent.ttc",
                  "fonts-absent-hei", truetype=True, pdf_name="AbsentHei")
    with pytest.raises(MissingFontError) as caught:
        embeddable_face((absent,))
    assert caught.value.hint == "apt-get install fonts-absent-hei"
    assert str(caught.value).startswith("缺少中文字体")
    assert str(tmp_path / "absent.ttc") in str(caught.value)
    with pytest.raises(MissingFontError, match="Absent Hei"):
        face_file(absent)
    assert face_file(NOTO_SANS, bold=True).name == "NotoSansCJK-Bold.ttc"
