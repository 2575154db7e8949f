"""Physical archive at full size: scan-to-locate, next-free-slot, and box labels.

With 1,000,000 volumes of 500,000 customers in 200,000 boxes on 24,000 slots (200
compact shelving units of 10 sections × 6 levels × 2 sides), bulk-loaded into a
fresh SQLite file (and PostgreSQL with --postgres):

  (a) scan-to-locate: ``locate()`` of random box codes and volume numbers   (goal p95 < 20 ms)
  (b) next free slot: ``suggest_slot()`` for random boxes and customers      (goal p95 < 50 ms)
  (c) 500 box labels as one PDF (Code 128 + QR + Chinese text), time per label

Baselines measured in the same run: a primary-key lookup of one box row for (a)
and (b), and the same 500 labels with text only (no barcodes) for (c).

Usage:  .venv/bin/python benchmarks/physical_bench.py [--scale 1.0] [--postgres]
        --scale 0.05 is a quick run (50,000 volumes).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import Engine, insert, select, text  # noqa: E402

from dms.db.migrate import upgrade  # noqa: E402
from dms.db.models import Box, Customer, Room, ShelvingUnit, Slot, Volume  # noqa: E402
from dms.db.models_physical import Loan  # noqa: E402
from dms.db.session import make_engine, make_session_factory  # noqa: E402
from dms.domain.locations import box_code, unit_slots, volume_number  # noqa: E402
from dms.services import labels, physical_query  # noqa: E402

GOAL_LOCATE_MS, GOAL_SUGGEST_MS = 20.0, 50.0
VOLUMES_PER_CUSTOMER, VOLUMES_PER_BOX, BOXES_PER_SLOT = 2, 5, 10
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def chunks(rows: Iterator[dict[str, Any]], n: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def load(engine: Engine, volumes: int) -> dict[str, int]:
    """Bulk-load the location tree, customers, boxes, volumes and a few open loans."""
    customers = volumes // VOLUMES_PER_CUSTOMER
    boxes = volumes // VOLUMES_PER_BOX
    # 20% spare shelf space so that free slots exist near most volumes.
    units = max(1, -(-int(boxes * 1.2) // (BOXES_PER_SLOT * 120)))
    with engine.begin() as conn:
        slot_ids: list[int] = []
        for u in range(units):
            room_no, unit_no = u // 50 + 1, u % 50 + 1
            room_id = conn.scalar(select(Room.id).where(Room.number == room_no))
            if room_id is None:
                room_id = conn.scalar(insert(Room).values(number=room_no, name=f"{room_no}号")
                                      .returning(Room.id))
            unit_id = conn.scalar(insert(ShelvingUnit).values(
                room_id=room_id, number=unit_no, sections=10, levels=6,
                boxes_per_slot=BOXES_PER_SLOT).returning(ShelvingUnit.id))
            conn.execute(insert(Slot), [
                {"unit_id": unit_id, "code": str(c), "side": c.side, "section": c.section,
                 "level": c.level, "capacity": BOXES_PER_SLOT, "occupied": 0}
                for c in unit_slots(room_no, unit_no, 10, 6)])
        slot_ids = list(conn.scalars(select(Slot.id).order_by(Slot.code)))
        for batch in chunks({"id": i, "customer_no": f"33{i:08d}", "name": f"客户{i}",
                             "kind": "resident", "address": "", "created_at": NOW}
                            for i in range(1, customers + 1)):
            conn.execute(insert(Customer), batch)
        # Boxes fill slots in customer order, ~8 per slot of 10.
        placement = [slot_ids[int(i * len(slot_ids) / boxes)] for i in range(boxes)]
        for batch in chunks({"id": i + 1, "code": box_code(i + 1), "slot_id": placement[i],
                             "capacity": 10, "created_at": NOW} for i in range(boxes)):
            conn.execute(insert(Box), batch)
        counts: dict[int, int] = {}
        for sid in placement:
            counts[sid] = counts.get(sid, 0) + 1
        conn.execute(text("UPDATE slots SET occupied = :n WHERE id = :id"),
                     [{"n": n, "id": sid} for sid, n in counts.items()])
        for batch in chunks({"id": v + 1,
                             "volume_no": volume_number(f"33{v // 2 + 1:08d}", v % 2 + 1),
                             "customer_id": v // VOLUMES_PER_CUSTOMER + 1,
                             "box_id": v // VOLUMES_PER_BOX + 1, "formed_at": NOW,
                             "title": "", "formed_by": "bench"} for v in range(volumes)):
            conn.execute(insert(Volume), batch)
        rnd = random.Random(7)
        conn.execute(insert(Loan), [
            {"volume_id": rnd.randint(1, volumes), "requester": "bench", "borrower": "借阅人",
             "borrower_team": "", "reason": "dispute", "note": "", "state": "checked_out",
             "requested_at": NOW, "decided_by": "", "decision_note": "",
             "checked_out_by": "a", "checked_out_at": NOW, "due_at": NOW + timedelta(days=30),
             "returned_to": ""} for _ in range(1000)])
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"customers": customers, "boxes": boxes, "volumes": volumes,
            "slots": len(slot_ids)}


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18]


def run(url: str, volumes: int, samples: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    t = time.perf_counter()
    sizes = load(engine, volumes)
    print(f"  loaded {sizes} in {time.perf_counter() - t:.1f} s")
    factory = make_session_factory(engine)
    rnd = random.Random(1)
    with factory() as s:
        def pk_lookup() -> None:
            s.execute(select(Box.code).where(Box.id == rnd.randint(1, sizes["boxes"]))).one()

        def scan() -> None:
            if rnd.random() < 0.5:
                code = box_code(rnd.randint(1, sizes["boxes"]))
            else:
                v = rnd.randint(0, volumes - 1)
                code = volume_number(f"33{v // 2 + 1:08d}", v % 2 + 1)
            physical_query.locate(s, code, NOW)

        def suggest() -> None:
            if rnd.random() < 0.5:
                physical_query.suggest_slot(s, box_code=box_code(rnd.randint(1, sizes["boxes"])))
            else:  # a customer not yet shelved: the neighbouring-number path
                physical_query.suggest_slot(
                    s, customer_no=f"33{rnd.randint(1, sizes['customers']):08d}")

        for fn in (pk_lookup, scan, suggest):  # warm caches once
            timed(fn, 20)
        base = timed(pk_lookup, samples)
        loc = timed(scan, samples)
        sug = timed(suggest, samples)
        codes = [box_code(rnd.randint(1, sizes["boxes"])) for _ in range(500)]
        t = time.perf_counter()
        contents = labels.box_label_contents(s, codes)
        query_s = time.perf_counter() - t
    engine.dispose()
    t = time.perf_counter()
    pdf = labels.render_labels_pdf(contents)
    label_s = time.perf_counter() - t + query_s
    t = time.perf_counter()
    plain = _text_only_pdf(contents)
    plain_s = time.perf_counter() - t
    bp = p95(base)
    print(f"  baseline PK lookup        p95 {bp:7.2f} ms")
    print(f"  (a) scan-to-locate        p50 {statistics.median(loc):7.2f} ms"
          f"  p95 {p95(loc):7.2f} ms"
          f"  = {p95(loc) / GOAL_LOCATE_MS:.2f} × goal ({GOAL_LOCATE_MS:g} ms),"
          f" {p95(loc) / bp:.1f} × baseline")
    print(f"  (b) next free slot        p50 {statistics.median(sug):7.2f} ms"
          f"  p95 {p95(sug):7.2f} ms"
          f"  = {p95(sug) / GOAL_SUGGEST_MS:.2f} × goal ({GOAL_SUGGEST_MS:g} ms),"
          f" {p95(sug) / bp:.1f} × baseline")
    print(f"  (c) 500 box labels        {label_s:6.2f} s = {label_s * 2:.1f} ms/label,"
          f" {len(pdf) / 1e6:.2f} MB;  text-only baseline {plain_s:.2f} s"
          f" ({label_s / plain_s:.1f} ×); {len(plain) / 1e6:.2f} MB")


def _text_only_pdf(contents: list[labels.LabelContent]) -> bytes:
    """The same pages with the text but no barcodes: what the codes themselves cost."""
    import io

    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    font = labels.register_font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(100 * mm, 60 * mm), pageCompression=1)
    for label in contents:
        c.setFont(font, 10)
        c.drawString(10, 150, f"{label.heading} {label.code}")
        c.drawString(10, 120, f"位置 {label.location}")
        for i, line in enumerate(label.lines):
            c.drawString(10, 90 - 14 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 volumes")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    args = ap.parse_args()
    volumes = max(1000, int(1_000_000 * args.scale)) // 10 * 10
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({volumes:,} volumes)")
        run(f"sqlite:///{tmp}/bench.sqlite", volumes, args.samples)
    if args.postgres:
        from dms.testing.postgres import ThrowawayPostgres

        with ThrowawayPostgres() as pg:
            print(f"PostgreSQL ({volumes:,} volumes)")
            run(pg.create_database("bench"), volumes, args.samples)


if __name__ == "__main__":
    main()
