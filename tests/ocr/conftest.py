"""Fixtures for the OCR tests: pages rendered with PIL and a real CJK font, real tesseract."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from dms.settings import Settings, load_settings
from hanzi.fonts import NOTO_SANS

FONT = NOTO_SANS.regular
FACE_SC, FACE_TC = 2, 3  # face indexes inside the .ttc (JP, KR, SC, TC, HK)
DPI = 300

SC_LINES = [
    "供用电合同",
    "合同编号 GDHT-2024-000123",
    "用电地址 杭州市西湖区文三路100号",
    "户名 张三 用电类别 居民生活",
]
# Long lines: a few degrees of skew makes them drift across neighbouring lines.
LONG_LINES = [
    "供用电合同 合同编号 GDHT-2024-000123 用电地址 杭州市西湖区文三路100号",
    "户名 张三 用电类别 居民生活 计量方式 高供低计 受电容量 315千伏安",
    "供电企业 国网浙江省电力有限公司杭州供电公司 签订日期 2024年3月15日",
    "双方经协商一致 就供用电事宜订立本合同 共同遵守执行 违约责任另行约定",
]
TC_LINES = ["臺灣電力公司 用電契約", "戶名 陳大文 電號 12345678", "營業處 臺北市區營業處"]


def ref_text(lines: list[str]) -> str:
    return "".join("".join(lines).split())


def render(lines: list[str], *, face: int = FACE_SC, size: int = 50, width: int = 1800,
           line_gap: int = 90) -> Image.Image:
    """Lines of black text on white, ~12 pt at 300 dpi."""
    font = ImageFont.truetype(str(FONT), size, index=face)
    im = Image.new("L", (width, 80 + line_gap * len(lines)), 255)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((60, 40 + i * line_gap), line, font=font, fill=0)
    return im


def save(im: Image.Image, path: Path, dpi: int | None = DPI) -> Path:
    if dpi is None:
        im.save(path)
    else:
        im.save(path, dpi=(dpi, dpi))
    return path


@pytest.fixture(scope="session")
def page_image() -> Image.Image:
    return render(SC_LINES)


@pytest.fixture()
def page_png(tmp_path: Path, page_image: Image.Image) -> Path:
    return save(page_image, tmp_path / "page.png")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    # One language keeps the suite fast; chi_tra gets its own test. These are tesseract's
    # tests (test_ppocr.py runs both engines), whatever the deployment default is.
    return load_settings(data_dir=tmp_path / "var", ocr_languages="chi_sim",
                         ocr_page_timeout_s=120, ocr_engine="tesseract")


@pytest.fixture()
def noisy() -> Callable[[Image.Image, float], Image.Image]:
    def add_noise(im: Image.Image, amount: float = 0.03) -> Image.Image:
        rng = np.random.default_rng(1)
        a = np.array(im).copy()
        m = rng.random(a.shape)
        a[m < amount] = 0
        a[m > 1 - amount] = 255
        return Image.fromarray(a)

    return add_noise
