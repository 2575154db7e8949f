"""Every crash the fuzzers found, with its minimal input (see tests/fuzz/conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models_lifecycle import InboundEvent
from dms.domain.lifecycle import parse_step_event
from dms.errors import BadDocumentError, InvalidInputError
from dms.services.container import build_services
from dms.services.events import import_events, read_events_file
from ingest.sniff import Rejected, inspect, read_head
from ocr_worker.rasterise import rasterise
from tests.fuzz.seeds import seed_files
from tests.lifecycle.conftest import CST, event, make_settings, seed


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


@pytest.mark.parametrize(("field", "value", "message"), [
    ("event_id", "A\x00B", "event_id contains a NUL"),
    ("handler", "h\x00", "handler contains a NUL"),
    ("team", "\ud800", "team contains an unpaired surrogate"),
    ("completed_at", "9999-12-31T23:59:59+08:00", "out of range"),
    ("completed_at", "0001-01-01T00:00:00", "out of range"),
    ("team", float("nan"), "team is nan, not a JSON number"),
    ("agent_applied", float("inf"), "agent_applied is inf"),
])
def test_events_postgres_cannot_store_are_invalid_input(field: str, value: object,
                                                        message: str) -> None:
    # Found by test_fuzz_generated_events on PostgreSQL: NUL raised psycopg2's ValueError,
    # an unpaired surrogate UnicodeEncodeError, year 9999 OverflowError in the deadline
    # arithmetic, NaN (which Python's JSON reader accepts) PostgreSQL's "Token NaN is
    # invalid" -- each a 500 on the events API and a crash of `dms events import`.
    payload = event("E1", "accept", "2026-03-02T09:00:00+08:00") | {field: value}
    with pytest.raises(InvalidInputError, match=message):
        parse_step_event(payload, default_tz=CST)


def test_a_rejected_event_with_nul_is_kept_on_both_databases(database_url: str,
                                                             tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url)
    upgrade(database_url)
    services = build_services(settings)
    seed(services)
    path = tmp_path / "events.json"
    path.write_text(json.dumps([event("A\x00B", "accept", "2026-03-02T09:00:00+08:00",
                                      note={"k\x00": ["\ud800"]}), float("inf")]),
                    encoding="utf-8")  # '[{...}, Infinity]': the minimal input was [Infinity]
    report = import_events(services, path, system="regress")
    assert (report.accepted, report.rejected) == (0, 2)
    assert "\x00" not in report.errors[0]
    with services.sessions() as s:
        kept = {k.event_id: k for k in s.scalars(
            select(InboundEvent).where(InboundEvent.system == "regress"))}
    assert sorted(kept) == ["", "A\ufffdB"]
    assert all(k.status == "rejected" for k in kept.values())
    assert "NUL" in kept["A\ufffdB"].error
    assert kept[""].payload == {"raw": "inf"}
    services.close()
