"""Physical location codes: room → shelving unit → side → section → level.

A code reads like ``R01-J03-A-05-2`` (room 01, unit 03, side A, section 05, level 2).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dms.errors import InvalidInputError

_CODE = re.compile(r"^R(\d{2})-J(\d{2})-([AB])-(\d{2})-(\d)$")


@dataclass(frozen=True, order=True)
class SlotCode:
    room: int
    unit: int
    side: str
    section: int
    level: int

    def __str__(self) -> str:
        return f"R{self.room:02d}-J{self.unit:02d}-{self.side}-{self.section:02d}-{self.level}"


def parse_slot_code(code: str) -> SlotCode:
    m = _CODE.match(code.strip().upper())
    if not m:
        raise InvalidInputError(f"not a location code: {code!r}",
                                hint="expected like R01-J03-A-05-2")
    room, unit, side, section, level = m.groups()
    return SlotCode(int(room), int(unit), side, int(section), int(level))


def unit_slots(room: int, unit: int, sections: int, levels: int,
               sides: tuple[str, ...] = ("A", "B")) -> list[SlotCode]:
    """All slots of one compact shelving unit, created in bulk from one form."""
    if not (1 <= sections <= 99 and 1 <= levels <= 9):
        raise InvalidInputError("sections must be 1–99 and levels 1–9")
    return [SlotCode(room, unit, side, s, lv)
            for side in sides for s in range(1, sections + 1) for lv in range(1, levels + 1)]
