"""Fuzz the file entry points with damaged real files: the ingest sniffer
(``ingest.sniff.inspect``) must answer an Inspection or ``Rejected``; the OCR worker's
rasteriser (``ocr_worker.rasterise``: PDF via pikepdf + pdftoppm, TIFF/JPEG/PNG via PIL)
page images or an ``OcrError`` (``BadDocumentError``; a timeout stays retryable)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from dms.errors import BadDocumentError, ExternalToolTimeout
from ingest.sniff import Inspection, Rejected, inspect, read_head
from ocr_worker.rasterise import rasterise
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import seed_files

SEEDS = seed_files()
# PIL warns about the damage it skips over; the verdict is what the tests check.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")


def _write(name: str, data: bytes) -> tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="dms-fuzz-"))
    path = work / name
    path.write_bytes(data)
    return work, path


def sniff_one(name: str, data: bytes) -> Inspection | Rejected:
    work, path = _write(name, data)
    try:
        return inspect(path, f"3301000001/{name}", read_head(path), len(data),
                       max_pages=20, max_pixels=4_000_000)
    except Rejected as exc:
        assert str(exc)  # a reason the report can show
        return exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rasterise_one(name: str, data: bytes) -> list[Path] | Exception:
    work, path = _write(name, data)
    try:
        pages = rasterise(path, work / "pages", dpi=50, max_pages=20, max_pixels=4_000_000,
                          timeout=15)
        assert pages and all(p.is_file() for p in pages)
        return pages
    except (BadDocumentError, ExternalToolTimeout) as exc:
        assert str(exc)
        return exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_seeds_are_accepted() -> None:
    """The fuzzers start from files both entry points take (else they test nothing)."""
    for name, data in SEEDS.items():
        assert isinstance(sniff_one(name, data), Inspection), name
        assert isinstance(rasterise_one(name, data), list), name


@given(mutated(SEEDS))
def test_fuzz_sniff_damaged_files(case: tuple[str, bytes]) -> None:
    sniff_one(*case)


@given(mutated(SEEDS))
def test_fuzz_rasterise_damaged_files(case: tuple[str, bytes]) -> None:
    rasterise_one(*case)
