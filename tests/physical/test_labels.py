"""Printed labels: render the PDF, decode the Code 128 barcode and the QR code with zbar."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.units import mm

from dms.db.session import session_scope
from dms.services import labels as LB
from dms.services import physical as P
from tests.physical.conftest import Db, seed_customer

pytestmark = [pytest.mark.slow,  # rasterising and decoding take seconds
              pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                                 reason="zbar-tools and poppler-utils are required")]


def decode(pdf: bytes, tmp: Path, dpi: int = 300, typed: bool = False) -> list[list[str]]:
    """Rasterise every page and return the symbols zbar reads on each (``TYPE:data`` when
    typed; zbar reports identical linear codes on one image once, so codes must differ)."""
    (tmp / "l.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(tmp / "l.pdf"), str(tmp / "p")],
                   check=True)
    pages = []
    for png in sorted(tmp.glob("p-*.png")):
        out = subprocess.run(["zbarimg", "-q", *([] if typed else ["--raw"]), "-Sdisable",
                              "-Sqrcode.enable", "-Scode128.enable", str(png)],
                             capture_output=True, text=True)
        pages.append(sorted(out.stdout.split()))
    return pages


def pdf_text(pdf: bytes, tmp: Path) -> str:
    (tmp / "t.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp / "t.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def boxed(db: Db) -> Db:
    with session_scope(db.sessions) as s:
        P.create_room(s, number=1, name="", actor="a", sections=5, levels=6)
        P.create_boxes(s, count=9, actor="a")
        user = db.user(s, "archivist")
        for no, name in (("3301000007", "张三"), ("3301000003", "李四")):
            seed_customer(s, no, name)
            vol = P.form_volume(s, actor="a", customer_no=no)
            P.put_volume_in_box(s, volume_no=vol.volume_no, box_code="BX00000001", user=user,
                                checklist=db.checklist)
        P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-05-2", user=user,
                   checklist=db.checklist)
    return db


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_box_labels_decode_back_to_their_codes(boxed: Db, tmp_path: Path) -> None:
    with boxed.sessions() as s:
        contents = LB.box_label_contents(s, ["BX00000001", "bx00000002"])
    first = contents[0]
    assert first.location == "R01-J01-A-05-2"
    assert first.lines[0] == "户号 3301000003 – 3301000007"
    assert "张三" in first.lines[1] and "李四" in first.lines[1] and "（2卷）" in first.lines[2]
    assert contents[1].location == "未上架"
    pdf = LB.render_labels_pdf(contents)
    pages = decode(pdf, tmp_path)
    # Each label page: the Code 128 barcode and the QR code both carry the box code.
    assert pages == [["BX00000001", "BX00000001"], ["BX00000002", "BX00000002"]]
    out = subprocess.run(["zbarimg", "-q", str(tmp_path / "p-1.png")], capture_output=True,
                         text=True).stdout.split()
    assert sorted(out) == ["CODE-128:BX00000001", "QR-Code:BX00000001"]
    text = pdf_text(pdf, tmp_path)
    assert "档案盒" in text and "R01-J01-A-05-2" in text and "张三" in text
    size = subprocess.run(["pdfinfo", str(tmp_path / "l.pdf")], capture_output=True,
                          text=True).stdout
    assert "283.465 x 170.079 pts" in size  # 100 × 60 mm


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a4_sheet_and_small_labels_and_volume_labels(boxed: Db, tmp_path: Path) -> None:
    with boxed.sessions() as s:
        codes = [f"BX0000000{i}" for i in range(1, 10)]
        boxes = LB.box_label_contents(s, codes)
        vols = LB.volume_label_contents(s, ["JZ3301000007-01"])
    assert LB.sheet_grid(LB.LabelSize()) == (2, 4)
    sheet = LB.render_labels_pdf(boxes, layout="a4")
    (tmp_path / "a4").mkdir()
    (tmp_path / "a4" / "s.pdf").write_bytes(sheet)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "a4" / "s.pdf"),
                    str(tmp_path / "a4" / "s")], check=True)
    sheets = sorted((tmp_path / "a4").glob("s-*.png"))
    assert len(sheets) == 2  # 9 labels, 8 per sheet
    # Cut each label out of the sheet where the layout says it is, and read it alone.
    cells, size = LB.sheet_cells(LB.LabelSize()), LB.LabelSize()
    px = 300 / 72
    for i, code in enumerate(codes):
        x, y = cells[i % len(cells)]
        with Image.open(sheets[i // len(cells)]) as im:
            top = im.height - (y + size.height_mm * mm) * px
            cell = im.crop((int(x * px), int(top), int((x + size.width_mm * mm) * px),
                            int(top + size.height_mm * mm * px)))
            cell.save(tmp_path / "a4" / f"cell{i}.png")
        out = subprocess.run(["zbarimg", "-q", str(tmp_path / "a4" / f"cell{i}.png")],
                             capture_output=True, text=True).stdout.split()
        assert sorted(out) == [f"CODE-128:{code}", f"QR-Code:{code}"], i
    small = LB.render_labels_pdf(boxes[:1], size=LB.LabelSize(60, 40))
    (tmp_path / "small").mkdir()
    assert decode(small, tmp_path / "small", dpi=300) == [["BX00000001", "BX00000001"]]
    spine = LB.render_labels_pdf(vols)
    (tmp_path / "vol").mkdir()
    assert decode(spine, tmp_path / "vol") == [["JZ3301000007-01", "JZ3301000007-01"]]
    text = pdf_text(spine, tmp_path / "vol")
    assert "卷宗" in text and "张三" in text and "BX00000001" in text
