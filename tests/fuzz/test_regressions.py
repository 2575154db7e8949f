"""Every crash the fuzzers found, with its minimal input (see tests/fuzz/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dms.errors import BadDocumentError, InvalidInputError
from dms.services.events import read_events_file
from ingest.sniff import Rejected, inspect, read_head
from ocr_worker.rasterise import rasterise
from tests.fuzz.seeds import seed_files


def test_truncated_multipage_tiff_is_a_bad_document_not_a_type_error(tmp_path: Path) -> None:
    # Found by test_fuzz_rasterise_damaged_files: ('pages.tif', truncate at 0.5). PIL's
    # n_frames walked into the cut IFD and raised TypeError("Missing dimensions").
    data = seed_files()["pages.tif"]
    src = tmp_path / "pages.tif"
    src.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadDocumentError, match="corrupt image pages.tif"):
        rasterise(src, tmp_path / "out", dpi=50, max_pages=20, max_pixels=4_000_000, timeout=15)
    with pytest.raises(Rejected):  # ingest already refused it; the worker must not crash
        inspect(src, "3301000001/pages.tif", read_head(src), src.stat().st_size,
                max_pages=20, max_pixels=4_000_000)


def test_events_file_not_utf8_is_invalid_input(tmp_path: Path) -> None:
    # Found by test_fuzz_damaged_event_files: ('events.csv', flip bit 1 of byte 0): the
    # UTF-8 BOM's 0xEF became 0xED and reading the file raised UnicodeDecodeError.
    path = tmp_path / "events.csv"
    path.write_bytes(b"\xed\xbb\xbfevent_id,step\nE1,accept\n")
    with pytest.raises(InvalidInputError, match="not UTF-8") as err:
        read_events_file(path)
    assert err.value.http_status == 400 and err.value.hint
