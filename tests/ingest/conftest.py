"""Fixtures: a real SQLite DB and local object store in tmp_path, a recording dispatcher,
and tiny but real sample scans made with PIL / reportlab / pikepdf."""
from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from dms.db.migrate import upgrade
from dms.services.container import Services, build_services
from dms.settings import DEFAULT_CONFIG_DIR, Settings, load_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "s3: needs the SeaweedFS S3 test server")


class RecordingDispatcher:
    """A real in-process Dispatcher that remembers what it was asked to do."""

    def __init__(self) -> None:
        self.ocr_documents: list[int] = []

    def ocr_document(self, document_id: int) -> None:
        self.ocr_documents.append(document_id)

    def ocr_page(self, page_id: int) -> None:
        pass

    def finalize_document(self, document_id: int) -> None:
        pass


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": data_dir, "config_dir": DEFAULT_CONFIG_DIR,
                                 "object_store": "local", "database_url": "",
                                 # a live `dms serve` of these settings needs a strong key
                                 "secret_key": "ingest-tests-" + "k" * 32,
                                 "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def make_services(data_dir: Path, **overrides: object) -> Services:
    settings = make_settings(data_dir, **overrides)
    services = build_services(settings)
    upgrade(settings.database_url)
    return services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = make_services(tmp_path / "data")
    yield svc
    svc.close()


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


# --- sample files ---------------------------------------------------------------------------

def _noise_image(w: int = 64, h: int = 48, seed: int = 0) -> Image.Image:
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), bytes(rnd.getrandbits(8) for _ in range(w * h * 3)))


def png_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    _noise_image(*size, seed=seed).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    _noise_image(seed=seed).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def tiff_bytes(pages: int = 3, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    frames = [_noise_image(seed=seed + i) for i in range(pages)]
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def pdf_bytes(pages: int = 1, text: str = "scan", seed: int = 0) -> bytes:
    """A PDF with a text layer (reportlab)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)  # same seed, same bytes
    for i in range(pages):
        c.drawString(72, 720, f"{text} {seed} page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def image_pdf_bytes(seed: int = 0) -> bytes:
    """An image-only PDF, as a scanner makes them (PIL)."""
    buf = io.BytesIO()
    _noise_image(seed=seed).save(buf, "PDF")
    return buf.getvalue()


def encrypted_pdf_bytes(user_password: str = "") -> bytes:
    src = pikepdf.open(io.BytesIO(pdf_bytes(seed=99)))
    out = io.BytesIO()
    src.save(out, encryption=pikepdf.Encryption(owner="owner", user=user_password))
    return out.getvalue()


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
