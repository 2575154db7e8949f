"""The physical archive's use cases: rooms, volumes, boxes and moves.

Every change is audited. Shelving a box is the ``pending_shelving → archived``
gate of the archive items whose paper it holds (see ``archive_shelved_items``).
Reads (locate, suggest, history, stock-taking) are in ``dms.services.physical_query``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import (Box, Business, Customer, Document, LocationMove, Room, ShelvingUnit,
                           Slot, User, Volume, utcnow)
from dms.db.models_physical import VolumeDocument
from dms.domain.checklist import Checklist
from dms.domain.lending import LENDING_ROLES
from dms.domain.lifecycle import State
from dms.domain.locations import (SIDES, box_code, box_number, check_unit_shape, parse_slot_code,
                                  unit_slots, volume_number)
from dms.domain.roles import Role
from dms.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dms.services import lifecycle
from dms.services.indexing import volumes_changed


@dataclass(frozen=True)
class RoomSetup:
    room_number: int
    units: list[int]
    slots: int


def create_room(session: Session, *, number: int, name: str, actor: str, unit_count: int = 1,
                sections: int = 10, levels: int = 6, sides: tuple[str, ...] = SIDES,
                boxes_per_slot: int = 10, first_unit: int = 1) -> RoomSetup:
    """Configure a room and its compact shelving units: all their slots in one call.

    The room is created if it does not exist yet; units already present are refused
    (so a form posted twice cannot double the shelving).
    """
    if unit_count < 1 or first_unit < 1 or first_unit + unit_count - 1 > 99:
        raise InvalidInputError("units must be numbered 1–99")
    if not 1 <= boxes_per_slot <= 200:
        raise InvalidInputError("boxes per slot must be 1–200")
    units = list(range(first_unit, first_unit + unit_count))
    for u in units:
        check_unit_shape(number, u, sections, levels, sides)
    room = session.scalar(select(Room).where(Room.number == number))
    if room is None:
        room = Room(number=number, name=name.strip() or f"{number:02d}号档案室")
        session.add(room)
        session.flush()
    taken = set(session.scalars(select(ShelvingUnit.number).where(
        ShelvingUnit.room_id == room.id, ShelvingUnit.number.in_(units))))
    if taken:
        raise ConflictError(f"room {number:02d} already has unit(s) {sorted(taken)}")
    total = 0
    for u in units:
        unit = ShelvingUnit(room_id=room.id, number=u, sections=sections, levels=levels,
                            boxes_per_slot=boxes_per_slot)
        session.add(unit)
        session.flush()
        rows = [{"unit_id": unit.id, "code": str(c), "side": c.side, "section": c.section,
                 "level": c.level, "capacity": boxes_per_slot, "occupied": 0}
                for c in unit_slots(number, u, sections, levels, sides)]
        session.execute(insert(Slot), rows)
        total += len(rows)
    audit.record(session, actor=actor, action="room_configured", entity="room", entity_id=number,
                 data={"units": units, "sections": sections, "levels": levels,
                       "sides": "".join(sides), "boxes_per_slot": boxes_per_slot,
                       "slots": total})
    return RoomSetup(number, units, total)


# --- volumes and boxes -----------------------------------------------------------------


def get_volume(session: Session, volume_no: str) -> Volume:
    vol = session.scalar(select(Volume).where(Volume.volume_no == volume_no.strip().upper()))
    if vol is None:
        raise NotFoundError(f"volume {volume_no} not found")
    return vol


def get_box(session: Session, code: str) -> Box:
    box = session.scalar(select(Box).where(Box.code == code.strip().upper()))
    if box is None:
        raise NotFoundError(f"box {code} not found")
    return box


def form_volume(session: Session, *, actor: str, business_no: str | None = None,
                customer_no: str | None = None, title: str = "",
                volume_no: str | None = None) -> Volume:
    """Form a volume (卷宗) from one archive item's documents, or a customer's whole file."""
    business: Business | None = None
    if business_no:
        business = session.scalar(select(Business).where(Business.business_no == business_no))
        if business is None:
            raise NotFoundError(f"business {business_no} not found")
        customer = session.get(Customer, business.customer_id)
        doc_filter = Document.business_id == business.id
    elif customer_no:
        customer = session.scalar(select(Customer).where(Customer.customer_no == customer_no))
        if customer is None:
            raise NotFoundError(f"customer {customer_no} not found")
        doc_filter = Document.customer_id == customer.id
    else:
        raise InvalidInputError("form a volume from a business number or a customer number")
    assert customer is not None
    doc_ids = list(session.scalars(select(Document.id).where(doc_filter).order_by(Document.id)))
    if not doc_ids:
        raise InvalidInputError("there are no documents to put in this volume",
                                hint="the paper must be scanned before its volume is formed")
    if volume_no is None:
        seq = (session.scalar(select(func.count(Volume.id))
                              .where(Volume.customer_id == customer.id)) or 0) + 1
        volume_no = volume_number(customer.customer_no, seq)
        while session.scalar(select(Volume.id).where(Volume.volume_no == volume_no)):
            seq += 1
            volume_no = volume_number(customer.customer_no, seq)
    elif session.scalar(select(Volume.id).where(Volume.volume_no == volume_no)):
        raise ConflictError(f"volume number {volume_no} is taken")
    kind = "business" if business else "customer file"
    vol = Volume(volume_no=volume_no, customer_id=customer.id,
                 business_id=business.id if business else None, formed_by=actor,
                 formed_on=utcnow().date(),
                 title=title.strip() or f"{customer.name} {business_no or '全宗'}".strip())
    session.add(vol)
    session.flush()
    session.execute(insert(VolumeDocument), [
        {"volume_id": vol.id, "document_id": d, "position": i} for i, d in enumerate(doc_ids, 1)])
    volumes_changed(session, [vol.id])  # the documents' location now names the volume
    audit.record(session, actor=actor, action="volume_formed", entity="volume",
                 entity_id=vol.volume_no, data={"kind": kind, "documents": len(doc_ids),
                                                "business_no": business_no or ""})
    return vol


def create_boxes(session: Session, *, count: int, actor: str, capacity: int = 10) -> list[Box]:
    """New empty boxes with the next free codes, ready for their labels."""
    if not 1 <= count <= 10_000:
        raise InvalidInputError("create 1–10000 boxes at a time")
    if not 1 <= capacity <= 100:
        raise InvalidInputError("a box holds 1–100 volumes")
    last = session.scalar(select(func.max(Box.code)).where(Box.code.like("BX%")))
    start = box_number(last) + 1 if last else 1
    boxes = [Box(code=box_code(n), capacity=capacity) for n in range(start, start + count)]
    session.add_all(boxes)
    session.flush()
    audit.record(session, actor=actor, action="boxes_created", entity="box",
                 entity_id=boxes[0].code, data={"count": count, "last": boxes[-1].code})
    return boxes


def require_archive_room(user: User) -> None:
    """Boxing and shelving are the archive room's work."""
    if Role(user.role) not in LENDING_ROLES:
        raise PermissionDeniedError(f"{user.username} ({user.role}) cannot box or shelve")


def put_volume_in_box(session: Session, *, volume_no: str, box_code: str, user: User,
                      checklist: Checklist, now: datetime | None = None) -> Volume:
    require_archive_room(user)
    actor = user.username
    vol = get_volume(session, volume_no)
    box = get_box(session, box_code)
    if vol.box_id == box.id:
        return vol
    held = session.scalar(select(func.count(Volume.id)).where(Volume.box_id == box.id)) or 0
    if held >= box.capacity:
        raise ConflictError(f"box {box.code} is full ({held}/{box.capacity} volumes)")
    old = session.get(Box, vol.box_id) if vol.box_id else None
    vol.box_id = box.id
    volumes_changed(session, [vol.id])
    audit.record(session, actor=actor, action="volume_boxed", entity="volume",
                 entity_id=vol.volume_no, data={"from_box": old.code if old else "",
                                                "to_box": box.code})
    session.flush()
    slot = session.get(Slot, box.slot_id) if box.slot_id is not None else None
    if slot is not None:  # boxing into a shelved box shelves the volume too
        archive_shelved_items(session, volume_ids=[vol.id], user=user, checklist=checklist,
                              location=slot.code, now=now or utcnow())
    return vol


# --- moves -------------------------------------------------------------------------------


@dataclass
class MoveResult:
    box_code: str
    from_slot: str | None
    to_slot: str
    moved: bool
    archived_businesses: list[str] = field(default_factory=list)


def move_box(session: Session, *, box_code: str, slot_code: str, user: User,
             checklist: Checklist, now: datetime | None = None) -> MoveResult:
    """Record that a box now stands on a slot (a scan of the box, then of the slot)."""
    require_archive_room(user)
    actor = user.username
    code = str(parse_slot_code(slot_code))
    box = get_box(session, box_code)
    slot = session.scalar(select(Slot).where(Slot.code == code))
    if slot is None:
        raise NotFoundError(f"slot {code} is not configured")
    old = session.get(Slot, box.slot_id) if box.slot_id else None
    if old is not None and old.id == slot.id:
        return MoveResult(box.code, code, code, moved=False)
    # The guarded increment is the capacity check: two archivists filling the last
    # place at once cannot both succeed.
    taken = session.execute(update(Slot).where(Slot.id == slot.id,
                                               Slot.occupied < Slot.capacity)
                            .values(occupied=Slot.occupied + 1))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"slot {code} is full ({slot.capacity} boxes)",
                            hint="ask for a suggestion of the next free slot")
    if old is not None:
        session.execute(update(Slot).where(Slot.id == old.id, Slot.occupied > 0)
                        .values(occupied=Slot.occupied - 1))
    at = now or utcnow()
    box.slot_id = slot.id
    session.add(LocationMove(box_id=box.id, from_slot_id=old.id if old else None,
                             to_slot_id=slot.id, actor=actor, at=at,
                             kind="move" if old else "shelve"))
    audit.record(session, actor=actor, action="box_moved", entity="box", entity_id=box.code,
                 data={"from": old.code if old else "", "to": code})
    session.flush()
    session.expire(slot)
    volume_ids = list(session.scalars(select(Volume.id).where(Volume.box_id == box.id)))
    volumes_changed(session, volume_ids)
    archived = archive_shelved_items(session, volume_ids=volume_ids, user=user,
                                     checklist=checklist, location=code, now=at)
    return MoveResult(box.code, old.code if old else None, code, True, archived)


def archive_shelved_items(session: Session, *, volume_ids: list[int], user: User,
                          checklist: Checklist, location: str, now: datetime) -> list[str]:
    """Pass the ``shelved`` gate (pending_shelving → archived) for the archive items whose
    paper is in these volumes, now that they stand on a shelf. Returns business numbers.

    The transition itself is the lifecycle service's (audit entry, tasks closed); items
    in any other state are left alone: shelving must not skip earlier gates.
    """
    if not volume_ids:
        return []
    via_docs = (select(Document.business_id).join(VolumeDocument,
                                                  VolumeDocument.document_id == Document.id)
                .where(VolumeDocument.volume_id.in_(volume_ids),
                       Document.business_id.is_not(None)))
    direct = select(Volume.business_id).where(Volume.id.in_(volume_ids),
                                              Volume.business_id.is_not(None))
    businesses = session.scalars(select(Business).where(
        Business.id.in_(via_docs.union(direct)),
        Business.archive_state == State.PENDING_SHELVING).order_by(Business.id)).all()
    for b in businesses:
        lifecycle.pass_gate(session, checklist, b, user, now, location=location)
    return [b.business_no for b in businesses]
