"""Reads of the physical archive: scan-to-locate, next free slot, history, stock-taking."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from dms.db import audit
from dms.db.models import (AuditEvent, Box, Customer, LocationMove, ShelvingUnit, Slot, Volume,
                           utcnow)
from dms.db.models_physical import Loan
from dms.domain.lending import OPEN_STATES, as_utc, display_state
from dms.domain.locations import (ScanKind, StockTakeReport, classify_scan, compare_stock,
                                  group_scans, in_range, parse_slot_code, slot_range)
from dms.errors import InvalidInputError, NotFoundError


@dataclass
class VolumeLocation:
    volume_id: int
    volume_no: str
    title: str
    customer_no: str
    customer_name: str
    box_code: str | None
    slot_code: str | None
    loan_id: int | None = None
    loan_state: str | None = None   # requested | approved | checked_out | overdue
    borrower: str = ""
    borrower_team: str = ""
    due_at: datetime | None = None

    @property
    def on_loan(self) -> bool:
        return self.loan_state in ("checked_out", "overdue")


@dataclass
class Located:
    kind: ScanKind
    code: str
    slot_code: str | None = None
    box_code: str | None = None
    volumes: list[VolumeLocation] = field(default_factory=list)
    boxes: list[str] = field(default_factory=list)  # on a slot
    capacity: int = 0
    occupied: int = 0


_OPEN = tuple(s.value for s in OPEN_STATES)


def volume_locations(session: Session, where: Any, now: datetime | None = None,
                     limit: int = 500) -> list[VolumeLocation]:
    """Volumes matching ``where`` with their box, slot and open loan, in one query."""
    now = now or utcnow()
    stmt = (select(Volume.id, Volume.volume_no, Volume.title, Customer.customer_no,
                   Customer.name, Box.code, Slot.code, Loan.id, Loan.state, Loan.borrower,
                   Loan.borrower_team, Loan.due_at)
            .join(Customer, Customer.id == Volume.customer_id)
            .outerjoin(Box, Box.id == Volume.box_id).outerjoin(Slot, Slot.id == Box.slot_id)
            .outerjoin(Loan, and_(Loan.volume_id == Volume.id, Loan.state.in_(_OPEN)))
            .where(where).order_by(Volume.volume_no).limit(limit))
    out = []
    for row in session.execute(stmt):
        (vid, vno, title, cno, cname, bcode, scode, lid, lstate, borrower, team, due) = row
        due = as_utc(due) if due else None
        out.append(VolumeLocation(vid, vno, title, cno, cname, bcode, scode, lid,
                                  display_state(lstate, due, now) if lstate else None,
                                  borrower or "", team or "", due))
    return out


def locate(session: Session, code: str, now: datetime | None = None) -> Located:
    """Whatever was scanned — slot, box or volume — where it is and what it holds."""
    code = code.strip().upper()
    kind = classify_scan(code)
    if kind is ScanKind.VOLUME:
        vols = volume_locations(session, Volume.volume_no == code, now)
        if not vols:
            raise NotFoundError(f"volume {code} not found")
        return Located(kind, code, vols[0].slot_code, vols[0].box_code, vols)
    if kind is ScanKind.BOX:
        row = session.execute(select(Box.id, Slot.code).outerjoin(Slot, Slot.id == Box.slot_id)
                              .where(Box.code == code)).first()
        if row is None:
            raise NotFoundError(f"box {code} not found")
        return Located(kind, code, row[1], code,
                       volume_locations(session, Volume.box_id == row[0], now))
    if kind is ScanKind.SLOT:
        slot = session.scalar(select(Slot).where(Slot.code == code))
        if slot is None:
            raise NotFoundError(f"slot {code} is not configured")
        boxes = list(session.scalars(select(Box.code).where(Box.slot_id == slot.id)
                                     .order_by(Box.code)))
        return Located(kind, code, code, None, [], boxes, slot.capacity, slot.occupied)
    raise InvalidInputError(f"unrecognised code {code!r}",
                            hint="scan a box (BX…), a volume (JZ…) or a slot (R01-J03-A-05-2)")


# --- next free slot ------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotSuggestion:
    slot_code: str
    free: int
    reason: str            # same_customer | neighbour_customer | first_free
    near_slot: str = ""
    near_customer: str = ""


_SLOT_COLS = (Slot.id, Slot.code, Slot.unit_id, Slot.side, Slot.section, Slot.level,
              Slot.capacity - Slot.occupied)


def suggest_slot(session: Session, *, box_code: str | None = None,
                 customer_no: str | None = None) -> SlotSuggestion:
    """The free slot nearest to related volumes: the same customer's, else the shelved
    customer with the nearest lower (else higher) customer number, else the first free."""
    box_id, customer_ids = -1, []
    if box_code:  # the box and its customers in one round trip
        rows = session.execute(select(Box.id, Volume.customer_id)
                               .outerjoin(Volume, Volume.box_id == Box.id)
                               .where(Box.code == box_code.strip().upper())).all()
        if not rows:
            raise NotFoundError(f"box {box_code} not found")
        box_id = rows[0][0]
        customer_ids = sorted({cid for _b, cid in rows if cid is not None})
    if customer_no:
        cid = session.scalar(select(Customer.id).where(Customer.customer_no == customer_no))
        customer_ids += [cid] if cid else []
    shelved = (select(*_SLOT_COLS).join(Box, Box.slot_id == Slot.id)
               .join(Volume, Volume.box_id == Box.id).where(Box.id != box_id))
    if customer_ids:
        anchor = session.execute(shelved.where(Volume.customer_id.in_(customer_ids))
                                 .limit(1)).first()
        if anchor is not None:
            return _nearest_free(session, anchor, "same_customer", "")
        nos = list(session.scalars(select(Customer.customer_no)
                                   .where(Customer.id.in_(customer_ids))))
        for op in ("lower", "higher"):
            hit = _neighbour(session, shelved, min(nos) if op == "lower" else max(nos), op)
            if hit is not None:
                return _nearest_free(session, hit[0], "neighbour_customer", hit[1])
    row = session.execute(select(*_SLOT_COLS).where(Slot.occupied < Slot.capacity)
                          .order_by(Slot.code).limit(1)).first()
    if row is None:
        raise NotFoundError("every slot is full", hint="configure another shelving unit")
    return SlotSuggestion(row[1], row[6], "first_free")


def _neighbour(session: Session, shelved: Any, customer_no: str, op: str) -> Any:
    no = Customer.customer_no
    cmp = no < customer_no if op == "lower" else no > customer_no
    order = Customer.customer_no.desc() if op == "lower" else Customer.customer_no.asc()
    row = session.execute(shelved.add_columns(Customer.customer_no)
                          .join(Customer, Customer.id == Volume.customer_id)
                          .where(cmp).order_by(order).limit(1)).first()
    return None if row is None else (row[:7], row[7])


def _nearest_free(session: Session, anchor: Any, reason: str, near_customer: str
                  ) -> SlotSuggestion:
    _id, code, unit_id, side, section, level, _free = anchor
    free = Slot.occupied < Slot.capacity
    row = session.execute(
        select(*_SLOT_COLS).where(Slot.unit_id == unit_id, free)
        .order_by(case((Slot.side == side, 0), else_=1), func.abs(Slot.section - section),
                  func.abs(Slot.level - level), Slot.code).limit(1)).first()
    if row is None:  # the unit is full: nearest unit of the same room, then anywhere
        anchor_unit = aliased(ShelvingUnit)
        row = session.execute(
            select(*_SLOT_COLS).join(ShelvingUnit, ShelvingUnit.id == Slot.unit_id)
            .join(anchor_unit, and_(anchor_unit.id == unit_id,
                                    anchor_unit.room_id == ShelvingUnit.room_id))
            .where(free)
            .order_by(func.abs(ShelvingUnit.number - anchor_unit.number), Slot.code)
            .limit(1)).first()
    if row is None:
        row = session.execute(select(*_SLOT_COLS).where(free).order_by(Slot.code)
                              .limit(1)).first()
    if row is None:
        raise NotFoundError("every slot is full", hint="configure another shelving unit")
    return SlotSuggestion(row[1], row[6], reason, code, near_customer)


# --- history -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    detail: str


def box_history(session: Session, box_code: str) -> list[HistoryEntry]:
    src, dst = aliased(Slot), aliased(Slot)
    rows = session.execute(
        select(LocationMove.at, LocationMove.actor, LocationMove.kind, src.code, dst.code)
        .join(Box, Box.id == LocationMove.box_id)
        .outerjoin(src, src.id == LocationMove.from_slot_id)
        .outerjoin(dst, dst.id == LocationMove.to_slot_id)
        .where(Box.code == box_code.strip().upper()).order_by(LocationMove.id))
    return [HistoryEntry(as_utc(at), actor, kind, f"{a or '—'} → {b or '—'}")
            for at, actor, kind, a, b in rows]


def volume_history(session: Session, volume_no: str) -> list[HistoryEntry]:
    """Everything that happened to a volume: formed, boxed, loans, and its box's moves."""
    vno = volume_no.strip().upper()
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "volume",
                                                      AuditEvent.entity_id == vno)
                             .order_by(AuditEvent.id)).all()
    out = [HistoryEntry(as_utc(e.at), e.actor, e.action, _describe(e.data)) for e in events]
    box = session.scalar(select(Box.code).join(Volume, Volume.box_id == Box.id)
                         .where(Volume.volume_no == vno))
    if box:
        out += box_history(session, box)
    return sorted(out, key=lambda h: h.at)


def _describe(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items() if v not in ("", None))


# --- stock-taking ------------------------------------------------------------------------------


def stock_take(session: Session, *, first_slot: str, last_slot: str, scans: list[str],
               actor: str) -> StockTakeReport:
    """Compare the boxes scanned on a stretch of shelving with the records.

    ``scans`` is what the scanner typed, in order: slot barcodes may be interleaved
    so that the boxes after each are checked against that very slot.
    """
    rng = slot_range(first_slot, last_slot)
    pairs = group_scans(scans)
    for slot, _box in pairs:
        if slot and not in_range(parse_slot_code(slot), rng):
            raise InvalidInputError(f"slot {slot} is outside the range {rng[0]} – {rng[1]}")
    unit_prefix = f"{rng[0].unit_code}-%"
    in_unit = session.execute(select(Box.code, Slot.code).join(Slot, Slot.id == Box.slot_id)
                              .where(Slot.code.like(unit_prefix))).all()
    recorded: dict[str, str | None] = {
        b: s for b, s in in_unit if in_range(parse_slot_code(s), rng)}
    scanned = sorted({b for _s, b in pairs} - set(recorded))
    for i in range(0, len(scanned), 500):
        chunk = scanned[i:i + 500]
        recorded.update({b: sl for b, sl in session.execute(
            select(Box.code, Slot.code).outerjoin(Slot, Slot.id == Box.slot_id)
            .where(Box.code.in_(chunk)))})
    report = compare_stock(rng, pairs, recorded)
    audit.record(session, actor=actor, action="stock_take", entity="slot_range",
                 entity_id=f"{rng[0]}..{rng[1]}",
                 data={"scanned": report.scanned, "confirmed": len(report.confirmed),
                       "missing": [b for b, _ in report.missing],
                       "misplaced": [b for b, _, _ in report.misplaced],
                       "unexpected": [c for c, _ in report.unexpected]})
    return report
