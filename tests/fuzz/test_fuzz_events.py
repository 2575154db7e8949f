"""Fuzz the marketing-event import (``dms events import FILE``: CSV, JSON, JSON lines) on a
real, seeded SQLite database: damaged real files and generated events with hostile field
values must end in an ImportReport (bad events counted as rejected, with a reason) or a
DmsError for the file as a whole, never another exception."""
from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.db.migrate import upgrade
from dms.errors import DmsError
from dms.services.container import Services, build_services
from dms.services.events import ImportReport, import_events
from dms.testing.postgres import ThrowawayPostgres
from tests.fuzz.mutate import mutated
from tests.lifecycle.conftest import event, make_settings, seed

_ids = itertools.count(1)


def _seed_events() -> list[dict[str, Any]]:
    return [event("S1", "accept", "2026-03-02T09:00:00+08:00"),
            event("S2", "contract", "2026-03-04 10:30", handler="h2", agent_applied="是"),
            event("S3", "accept", "2026-03-05T08:00:00Z", business_no="YK2026000002",
                  customer_no="3301000002")]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) + ["agent_applied"])
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


SEEDS = {
    "events.csv": _csv(_seed_events()),
    "events.json": json.dumps(_seed_events(), ensure_ascii=False).encode(),
    "wrapped.json": json.dumps({"events": _seed_events()}, ensure_ascii=False).encode(),
    "lines.jsonl": "\n".join(json.dumps(e, ensure_ascii=False) for e in _seed_events()).encode(),
}


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Both databases: PostgreSQL refuses text SQLite stores (NUL), which is where the
    fuzzer found the import's crashes."""
    root = tmp_path_factory.mktemp("fuzz-events")
    if request.param == "postgres":
        pg: ThrowawayPostgres = request.getfixturevalue("postgres")
        url = pg.create_database(f"fuzz{next(_ids)}")
    else:
        url = f"sqlite:///{root / 'db.sqlite'}"
    settings = make_settings(root, url)
    upgrade(settings.database_url)
    svc = build_services(settings)
    seed(svc)
    yield svc
    svc.close()


def import_one(services: Services, name: str, data: bytes) -> ImportReport | DmsError:
    work = Path(tempfile.mkdtemp(prefix="dms-fuzz-"))
    path = work / name
    path.write_bytes(data)
    try:
        # Each input its own system: idempotency would otherwise turn repeats into no-ops.
        report = import_one_system(services, path)
        assert report.rejected == len(report.errors)
        return report
    except DmsError as exc:
        assert exc.http_status < 500, exc  # the file's fault: a 4xx-class error
        return exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def import_one_system(services: Services, path: Path) -> ImportReport:
    return import_events(services, path, system=f"fuzz{next(_ids)}")


def test_the_seed_files_import(services: Services) -> None:
    """Every seed file is read whole: the first applies its three events; the same events
    from the other files are refused only as steps already completed."""
    accepted = 0
    for name, data in SEEDS.items():
        report = import_one(services, name, data)
        assert isinstance(report, ImportReport), (name, report)
        assert report.accepted + report.rejected == 3, (name, report)
        assert all("already completed" in e for e in report.errors), (name, report)
        accepted += report.accepted
    assert accepted == 3


@given(case=mutated(SEEDS))
def test_fuzz_damaged_event_files(services: Services, case: tuple[str, bytes]) -> None:
    import_one(services, *case)


_text = st.one_of(st.text(max_size=40), st.sampled_from(
    ["", " ", "accept", "contract", "3301000001", "YK2026000001", "h1", "YYB", "\x00",
     "9999-12-31T23:59:59", "0001-01-01T00:00:00", "2026-02-30T10:00", "2026-03-02T25:00",
     "2026-03-02T10:00:00+23:59", "2026-03-02T10:00:00-23:59", "1e400", "NaN", "是", "ｙｅｓ"]))
_value = st.one_of(_text, st.integers(), st.floats(), st.booleans(), st.none(),
                   st.lists(st.integers(), max_size=3), st.dictionaries(_text, _text, max_size=2))
_event = st.fixed_dictionaries(
    {k: st.one_of(_text, _value) for k in ("event_id", "customer_no", "business_no",
                                             "business_type", "step", "completed_at",
                                             "handler")},
    optional={"team": _value, "agent_applied": _value})


@given(events=st.lists(st.one_of(_event, _value), min_size=1, max_size=5),
       as_csv=st.booleans())
def test_fuzz_generated_events(services: Services, events: list[Any], as_csv: bool) -> None:
    if as_csv:
        rows = [e for e in events if isinstance(e, dict)] or [event("X", "accept", "x")]
        names = sorted({str(k) for r in rows for k in r})
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
        w.writeheader()
        w.writerows([{str(k): v for k, v in r.items()} for r in rows])
        import_one(services, "events.csv", buf.getvalue().encode("utf-8", "surrogatepass"))
    else:
        import_one(services, "events.json",
                   json.dumps(events, ensure_ascii=False).encode("utf-8", "surrogatepass"))
