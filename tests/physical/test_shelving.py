"""Rooms in bulk, forming and boxing volumes, moves and their history, the next free slot,
scan-to-locate and stock-taking — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from dms.db.models import AuditEvent, Business, Slot, Volume
from dms.db.session import session_scope
from dms.domain.locations import ScanKind
from dms.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dms.services import physical as P
from dms.services import physical_query as Q
from tests.physical.conftest import Db, seed_customer

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_create_room_in_bulk(db: Db) -> None:
    with session_scope(db.sessions) as s:
        done = P.create_room(s, number=1, name="一号档案室", actor="archivist", unit_count=2,
                             sections=10, levels=6, boxes_per_slot=8)
    assert done.units == [1, 2] and done.slots == 240
    with db.sessions() as s:
        codes = set(s.scalars(select(Slot.code)))
        assert len(codes) == 240 and {"R01-J01-A-01-1", "R01-J02-B-10-6"} <= codes
        assert s.scalar(select(func.sum(Slot.capacity))) == 240 * 8
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "room_configured"))
        assert ev is not None and ev.data["slots"] == 240
    with pytest.raises(ConflictError, match="already has unit"):
        with session_scope(db.sessions) as s:
            P.create_room(s, number=1, name="", actor="a", unit_count=1, first_unit=2)
    with session_scope(db.sessions) as s:  # adding unit 3 to the same room is fine
        assert P.create_room(s, number=1, name="", actor="a", first_unit=3, sections=2,
                             levels=3, sides=("A",)).slots == 6
    with pytest.raises(InvalidInputError):
        with session_scope(db.sessions) as s:
            P.create_room(s, number=2, name="", actor="a", levels=10)


def test_form_volumes_box_them_and_shelving_archives_the_item(db: Db) -> None:
    with session_scope(db.sessions) as s:
        P.create_room(s, number=1, name="", actor="a", sections=2, levels=2, boxes_per_slot=2)
        _c, b = seed_customer(s, "3301000001", "张三")
        seed_customer(s, "3301000002", "李四", state="pending_transfer")
    with session_scope(db.sessions) as s:
        v1 = P.form_volume(s, actor="archivist", business_no=b.business_no)
        v2 = P.form_volume(s, actor="archivist", customer_no="3301000002")
        boxes = P.create_boxes(s, count=2, capacity=1, actor="archivist")
        assert (v1.volume_no, v2.volume_no) == ("JZ3301000001-01", "JZ3301000002-01")
        assert [x.code for x in boxes] == ["BX00000001", "BX00000002"]
        assert P.create_boxes(s, count=1, actor="a")[0].code == "BX00000003"
    with pytest.raises(InvalidInputError, match="no documents"):
        with session_scope(db.sessions) as s:
            seed_customer(s, "3301000003", "王五", doc_types=())
            P.form_volume(s, actor="a", customer_no="3301000003")
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        P.put_volume_in_box(s, volume_no="JZ3301000001-01", box_code="BX00000001", user=user,
                            checklist=db.checklist)
        with pytest.raises(ConflictError, match="full"):
            P.put_volume_in_box(s, volume_no="JZ3301000002-01", box_code="BX00000001",
                                user=user, checklist=db.checklist)
        with pytest.raises(PermissionDeniedError):
            P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-01-1",
                       user=db.user(s, "handler"), checklist=db.checklist)
        moved = P.move_box(s, box_code="BX00000001", slot_code="r01-j01-a-01-1", user=user,
                           checklist=db.checklist, now=NOW)
        assert moved.moved and moved.from_slot is None and moved.to_slot == "R01-J01-A-01-1"
        assert moved.archived_businesses == ["YK3301000001"]
    with db.sessions() as s:
        item = s.scalar(select(Business).where(Business.business_no == "YK3301000001"))
        assert item is not None and item.archive_state == "archived"
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "transition",
                                               AuditEvent.to_state == "archived"))
        assert ev is not None and ev.from_state == "pending_shelving"
        assert ev.data.get("location") == "R01-J01-A-01-1"
    # The other customer's item is still pending_transfer: shelving must not skip gates.
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        P.put_volume_in_box(s, volume_no="JZ3301000002-01", box_code="BX00000002", user=user,
                            checklist=db.checklist)
        assert P.move_box(s, box_code="BX00000002", slot_code="R01-J01-A-01-1", user=user,
                          checklist=db.checklist).archived_businesses == []
        assert s.scalar(select(Business.archive_state).where(
            Business.business_no == "YK3301000002")) == "pending_transfer"


def _shelf(db: Db) -> None:
    """Room 1, unit 1: 3 sections × 2 levels × side A, 2 boxes per slot; 5 customers."""
    with session_scope(db.sessions) as s:
        P.create_room(s, number=1, name="", actor="a", sections=3, levels=2, sides=("A",),
                      boxes_per_slot=2)
        P.create_room(s, number=1, name="", actor="a", first_unit=2, sections=3, levels=2,
                      sides=("A",), boxes_per_slot=2)
        for i in (10, 20, 30, 40, 50):
            seed_customer(s, f"33010000{i}", f"客户{i}")
            P.form_volume(s, actor="a", customer_no=f"33010000{i}")
        P.create_boxes(s, count=6, actor="a")
        user = db.user(s, "archivist")
        for i, box in zip((10, 20, 30, 40, 50), range(1, 6), strict=True):
            P.put_volume_in_box(s, volume_no=f"JZ33010000{i}-01", box_code=f"BX0000000{box}",
                                user=user, checklist=db.checklist)


def test_moves_history_and_occupancy(db: Db) -> None:
    _shelf(db)
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-01-1", user=user,
                   checklist=db.checklist)
        P.move_box(s, box_code="BX00000002", slot_code="R01-J01-A-01-1", user=user,
                   checklist=db.checklist)
        with pytest.raises(ConflictError, match="full"):
            P.move_box(s, box_code="BX00000003", slot_code="R01-J01-A-01-1", user=user,
                       checklist=db.checklist)
        with pytest.raises(NotFoundError):
            P.move_box(s, box_code="BX00000003", slot_code="R09-J01-A-01-1", user=user,
                       checklist=db.checklist)
        P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-02-1", user=user,
                   checklist=db.checklist)
        again = P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-02-1", user=user,
                           checklist=db.checklist)
        assert not again.moved
    with db.sessions() as s:
        occupied = dict(s.execute(select(Slot.code, Slot.occupied)
                                  .where(Slot.occupied > 0)).all())
        assert occupied == {"R01-J01-A-01-1": 1, "R01-J01-A-02-1": 1}
        history = Q.box_history(s, "BX00000001")
        assert [(h.action, h.detail) for h in history] == [
            ("shelve", "— → R01-J01-A-01-1"), ("move", "R01-J01-A-01-1 → R01-J01-A-02-1")]
        vh = Q.volume_history(s, "JZ3301000010-01")
        assert [h.action for h in vh][:2] == ["volume_formed", "volume_boxed"]
        assert {"shelve", "move"} <= {h.action for h in vh}
        found = Q.locate(s, "jz3301000010-01")
        assert found.kind is ScanKind.VOLUME and found.slot_code == "R01-J01-A-02-1"
        assert found.box_code == "BX00000001" and found.volumes[0].customer_name == "客户10"
        slot = Q.locate(s, "R01-J01-A-01-1")
        assert slot.boxes == ["BX00000002"] and (slot.occupied, slot.capacity) == (1, 2)
        with pytest.raises(InvalidInputError):
            Q.locate(s, "nonsense")


def test_next_free_slot_near_related_volumes(db: Db) -> None:
    _shelf(db)
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        assert Q.suggest_slot(s, box_code="BX00000001").reason == "first_free"
        # Customer 20 sits at section 3 level 1 of unit 2.
        P.move_box(s, box_code="BX00000002", slot_code="R01-J02-A-03-1", user=user,
                   checklist=db.checklist)
        # A second box of customer 20 goes beside it.
        P.form_volume(s, actor="a", customer_no="3301000020")
        P.put_volume_in_box(s, volume_no="JZ3301000020-02", box_code="BX00000006", user=user,
                            checklist=db.checklist)
        hint = Q.suggest_slot(s, box_code="BX00000006")
        assert (hint.slot_code, hint.reason, hint.free) == ("R01-J02-A-03-1", "same_customer", 1)
        # Customer 30 has nothing shelved: its neighbour by number (20) is the anchor.
        hint = Q.suggest_slot(s, box_code="BX00000003")
        assert hint.reason == "neighbour_customer" and hint.near_customer == "3301000020"
        assert hint.slot_code == "R01-J02-A-03-1"
        P.move_box(s, box_code="BX00000006", slot_code=hint.slot_code, user=user,
                   checklist=db.checklist)
        # Now the anchor slot is full: the nearest free one in the same unit.
        hint = Q.suggest_slot(s, box_code="BX00000003")
        assert hint.slot_code == "R01-J02-A-03-2"
        # Customer 10 (lower than all shelved) uses the higher neighbour.
        hint = Q.suggest_slot(s, customer_no="3301000010")
        assert hint.reason == "neighbour_customer" and hint.near_customer == "3301000020"


def test_stock_taking_reports_missing_misplaced_unexpected(db: Db) -> None:
    _shelf(db)
    with session_scope(db.sessions) as s:
        user = db.user(s, "archivist")
        for box, slot in (("BX00000001", "R01-J01-A-01-1"), ("BX00000002", "R01-J01-A-01-1"),
                          ("BX00000003", "R01-J01-A-01-2"), ("BX00000004", "R01-J01-A-02-1"),
                          ("BX00000005", "R01-J02-A-01-1")):
            P.move_box(s, box_code=box, slot_code=slot, user=user, checklist=db.checklist)
    scans = ["R01-J01-A-01-1", "BX00000001", "BX00000003",  # 3 belongs on level 2
             "R01-J01-A-01-2", "BX00000005",                  # 5 belongs in unit 2
             "BX00000006",                                    # never shelved
             "BX99999999"]                                    # unknown
    with session_scope(db.sessions) as s:
        r = Q.stock_take(s, first_slot="R01-J01-A-01-1", last_slot="R01-J01-A-02-2",
                         scans=scans, actor="archivist")
    assert r.confirmed == ["BX00000001"]
    assert sorted(r.missing) == [("BX00000002", "R01-J01-A-01-1"),
                                 ("BX00000004", "R01-J01-A-02-1")]
    assert sorted(r.misplaced) == [("BX00000003", "R01-J01-A-01-2", "R01-J01-A-01-1"),
                                   ("BX00000005", "R01-J02-A-01-1", "R01-J01-A-01-2")]
    assert sorted(r.unexpected) == [("BX00000006", "R01-J01-A-01-2"),
                                    ("BX99999999", "R01-J01-A-01-2")]
    with db.sessions() as s:
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "stock_take"))
        assert ev is not None and ev.data["missing"] == ["BX00000002", "BX00000004"]
    with pytest.raises(InvalidInputError, match="outside"):
        with session_scope(db.sessions) as s:
            Q.stock_take(s, first_slot="R01-J01-A-01-1", last_slot="R01-J01-A-01-2",
                         scans=["R01-J01-A-03-1", "BX00000001"], actor="a")
    with db.sessions() as s:
        assert s.scalar(select(func.count(Volume.id))) == 5


def test_suggestion_moves_to_the_nearest_unit_when_the_anchor_unit_is_full(db: Db) -> None:
    with session_scope(db.sessions) as s:
        for unit in (1, 2, 5):  # unit 1: one slot for one box
            P.create_room(s, number=1, name="", actor="a", first_unit=unit,
                          sections=1 if unit == 1 else 2, levels=1, sides=("A",),
                          boxes_per_slot=1)
        seed_customer(s, "3301000001", "甲")
        P.form_volume(s, actor="a", customer_no="3301000001")
        P.form_volume(s, actor="a", customer_no="3301000001")
        P.create_boxes(s, count=2, actor="a")
        user = db.user(s, "archivist")
        P.put_volume_in_box(s, volume_no="JZ3301000001-01", box_code="BX00000001", user=user,
                            checklist=db.checklist)
        P.put_volume_in_box(s, volume_no="JZ3301000001-02", box_code="BX00000002", user=user,
                            checklist=db.checklist)
        P.move_box(s, box_code="BX00000001", slot_code="R01-J01-A-01-1", user=user,
                   checklist=db.checklist)
        hint = Q.suggest_slot(s, box_code="BX00000002")
        assert (hint.reason, hint.near_slot, hint.slot_code) == (
            "same_customer", "R01-J01-A-01-1", "R01-J02-A-01-1")
