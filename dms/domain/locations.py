"""Physical location codes, box and volume codes, scans, distances and stock-taking.

A slot code reads like ``R01-J03-A-05-2`` (room 01, unit 03, side A, section 05,
level 2). Box codes (``BX00000123``) and volume numbers (``JZ3301000001-02``) are
what the printed barcodes carry; a barcode scanner types one of the three, and
``classify_scan`` tells which.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dms.errors import InvalidInputError

_CODE = re.compile(r"^R(\d{2})-J(\d{2})-([AB])-(\d{2})-(\d)$")
_BOX = re.compile(r"^BX\d{8}$")
_VOLUME = re.compile(r"^JZ[0-9A-Z]{1,24}-\d{2,3}$")
SIDES = ("A", "B")


@dataclass(frozen=True, order=True)
class SlotCode:
    room: int
    unit: int
    side: str
    section: int
    level: int

    def __str__(self) -> str:
        return f"R{self.room:02d}-J{self.unit:02d}-{self.side}-{self.section:02d}-{self.level}"

    @property
    def unit_code(self) -> str:
        return f"R{self.room:02d}-J{self.unit:02d}"


def parse_slot_code(code: str) -> SlotCode:
    m = _CODE.match(code.strip().upper())
    if not m:
        raise InvalidInputError(f"not a location code: {code!r}",
                                hint="expected like R01-J03-A-05-2")
    room, unit, side, section, level = m.groups()
    return SlotCode(int(room), int(unit), side, int(section), int(level))


def check_unit_shape(room: int, unit: int, sections: int, levels: int,
                     sides: tuple[str, ...]) -> None:
    if not (1 <= room <= 99 and 1 <= unit <= 99):
        raise InvalidInputError("room and unit numbers must be 1–99")
    if not (1 <= sections <= 99 and 1 <= levels <= 9):
        raise InvalidInputError("sections must be 1–99 and levels 1–9")
    if not sides or len(set(sides)) != len(sides) or any(s not in SIDES for s in sides):
        raise InvalidInputError(f"sides must be A and/or B, got {sides!r}")


def unit_slots(room: int, unit: int, sections: int, levels: int,
               sides: tuple[str, ...] = SIDES) -> list[SlotCode]:
    """All slots of one compact shelving unit, created in bulk from one form."""
    check_unit_shape(room, unit, sections, levels, sides)
    return [SlotCode(room, unit, side, s, lv)
            for side in sides for s in range(1, sections + 1) for lv in range(1, levels + 1)]


def parse_sides(text: str) -> tuple[str, ...]:
    """``"AB"``, ``"A,B"`` or ``"A"`` → ``("A", "B")`` / ``("A",)``."""
    sides = tuple(ch for ch in text.upper() if ch.isalpha())
    if not sides or any(s not in SIDES for s in sides) or len(set(sides)) != len(sides):
        raise InvalidInputError(f"sides must be A, B or AB, got {text!r}")
    return sides


def slot_distance(a: SlotCode, b: SlotCode) -> tuple[int, int, int, int, int]:
    """How far apart two slots are for a person walking the archive room.

    Compared as a tuple: another room is farthest, then other units, then the
    other side of the same unit, then sections along the aisle, then levels.
    """
    return (int(a.room != b.room), abs(a.unit - b.unit) if a.room == b.room else 99,
            int(a.side != b.side), abs(a.section - b.section), abs(a.level - b.level))


def slot_range(first: str, last: str) -> tuple[SlotCode, SlotCode]:
    """A stock-taking range within one shelving unit, in code order."""
    a, b = parse_slot_code(first), parse_slot_code(last)
    if a.unit_code != b.unit_code:
        raise InvalidInputError("a stock-taking range must stay within one shelving unit",
                                hint=f"{a.unit_code} ≠ {b.unit_code}")
    return (a, b) if a <= b else (b, a)


def in_range(code: SlotCode, rng: tuple[SlotCode, SlotCode]) -> bool:
    return rng[0] <= code <= rng[1]


# --- box and volume codes ------------------------------------------------------------


def box_code(n: int) -> str:
    """The n-th box's code: digits only after ``BX`` so Code 128 packs it densely."""
    if not 1 <= n <= 99_999_999:
        raise InvalidInputError(f"box number out of range: {n}")
    return f"BX{n:08d}"


def box_number(code: str) -> int:
    code = code.strip().upper()
    if not _BOX.match(code):
        raise InvalidInputError(f"not a box code: {code!r}", hint="expected like BX00000123")
    return int(code[2:])


def volume_number(customer_no: str, seq: int) -> str:
    """A customer's volumes are numbered ``JZ<户号>-01``, ``-02``… in the order formed."""
    if not 1 <= seq <= 999:
        raise InvalidInputError(f"volume sequence out of range: {seq}")
    code = f"JZ{customer_no.strip().upper()}-{seq:02d}"
    if not _VOLUME.match(code):
        raise InvalidInputError(f"customer number unusable in a volume number: {customer_no!r}")
    return code


class ScanKind(StrEnum):
    SLOT = "slot"
    BOX = "box"
    VOLUME = "volume"
    UNKNOWN = "unknown"


def classify_scan(code: str) -> ScanKind:
    """What a barcode scanner just typed."""
    c = code.strip().upper()
    if _CODE.match(c):
        return ScanKind.SLOT
    if _BOX.match(c):
        return ScanKind.BOX
    if _VOLUME.match(c):
        return ScanKind.VOLUME
    return ScanKind.UNKNOWN


def range_label(values: Iterable[str]) -> str:
    """``['3301000007', '3301000003']`` → ``'3301000003 – 3301000007'`` for labels."""
    vs = sorted(set(v for v in values if v))
    if not vs:
        return ""
    return vs[0] if len(vs) == 1 else f"{vs[0]} – {vs[-1]}"


# --- stock-taking ----------------------------------------------------------------------


@dataclass
class StockTakeReport:
    """What a shelf scan found against the records.

    missing: recorded in the range, not scanned. misplaced: scanned in the range
    but recorded elsewhere (another slot, inside or outside the range). unexpected:
    scanned codes the records do not know, or boxes recorded as not shelved.
    """

    scanned: int = 0
    confirmed: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)           # (box, recorded slot)
    misplaced: list[tuple[str, str, str]] = field(default_factory=list)    # (box, recorded, found)
    unexpected: list[tuple[str, str]] = field(default_factory=list)        # (code, found slot)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.misplaced or self.unexpected)


def group_scans(scans: Iterable[str], default_slot: str = "") -> list[tuple[str, str]]:
    """Turn a scanner's keystroke stream into (slot, box) pairs.

    A slot barcode sets the slot for the boxes scanned after it; boxes scanned
    before any slot barcode get ``default_slot`` (``""`` = somewhere in the range).
    """
    slot = default_slot
    pairs: list[tuple[str, str]] = []
    for raw in scans:
        code = raw.strip().upper()
        if not code:
            continue
        if classify_scan(code) is ScanKind.SLOT:
            slot = str(parse_slot_code(code))
        else:
            pairs.append((slot, code))
    return pairs


def compare_stock(rng: tuple[SlotCode, SlotCode], scans: Iterable[tuple[str, str]],
                  recorded: Mapping[str, str | None]) -> StockTakeReport:
    """Compare scanned (slot, box) pairs against the records.

    ``recorded`` maps every box code the records know of that is either scanned or
    recorded inside the range to its recorded slot code (None = not shelved).
    """
    report = StockTakeReport()
    seen: set[str] = set()
    for found_slot, box in scans:
        report.scanned += 1
        if box in seen:
            continue
        seen.add(box)
        if box not in recorded:
            report.unexpected.append((box, found_slot))
            continue
        where = recorded[box]
        if where is None:
            report.unexpected.append((box, found_slot))
        elif not in_range(parse_slot_code(where), rng) or (found_slot and found_slot != where):
            report.misplaced.append((box, where, found_slot))
        else:
            report.confirmed.append(box)
    for box, where in sorted(recorded.items()):
        if where and box not in seen and in_range(parse_slot_code(where), rng):
            report.missing.append((box, where))
    return report
