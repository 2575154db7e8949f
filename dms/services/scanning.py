"""What a barcode scan at the archive room's desk means, and the answer shown at once.

A scanner types like a keyboard and ends with Enter. Scanning a box and then a
slot records a move; in return mode, scanning a volume closes its loan; any
scan can be looked up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dms.db.models import User
from dms.domain.checklist import Checklist
from dms.domain.locations import ScanKind, classify_scan
from dms.domain.roles import Role
from dms.errors import DmsError
from dms.services import lending
from dms.services.physical import move_box
from dms.services.physical_query import Located, SlotSuggestion, locate, suggest_slot

MODES = ("shelve", "return", "locate")


@dataclass
class ScanAnswer:
    ok: bool
    message: str
    pending_box: str = ""
    located: Located | None = None
    suggestion: SlotSuggestion | None = None


def handle_scan(session: Session, code: str, *, pending_box: str, mode: str, user: User,
                checklist: Checklist, now: datetime) -> ScanAnswer:
    code = code.strip().upper()
    try:
        return _handle(session, code, pending_box.strip().upper(), mode, user, checklist, now)
    except DmsError as exc:
        return ScanAnswer(False, f"{code}: {exc}", pending_box)


def _handle(session: Session, code: str, pending: str, mode: str, user: User,
            checklist: Checklist, now: datetime) -> ScanAnswer:
    kind = classify_scan(code)
    if mode == "return":
        if kind is not ScanKind.VOLUME:
            return ScanAnswer(False, f"{code}: 归还请扫描卷宗条码 (JZ…)", pending)
        loan = lending.return_volume(session, code, actor=user.username, role=Role(user.role),
                                     now=now)
        return ScanAnswer(True, f"已归还 {code}（借阅人 {loan.borrower}）", "",
                          locate(session, code, now))
    if mode == "shelve" and kind is ScanKind.BOX:
        found = locate(session, code, now)
        hint = suggest_slot(session, box_code=code)
        where = found.slot_code or "未上架"
        return ScanAnswer(True, f"档案盒 {code}，当前位置 {where}；请扫描目标库位"
                                f"（建议 {hint.slot_code}）", code, found, hint)
    if mode == "shelve" and kind is ScanKind.SLOT and pending:
        moved = move_box(session, box_code=pending, slot_code=code, user=user,
                         checklist=checklist, now=now)
        text = (f"已记录移位：{moved.box_code} {moved.from_slot or '未上架'} → {moved.to_slot}"
                if moved.moved else f"{moved.box_code} 已在 {moved.to_slot}")
        if moved.archived_businesses:
            text += f"；已归档业务 {', '.join(moved.archived_businesses)}"
        return ScanAnswer(True, text, "", locate(session, moved.box_code, now))
    found = locate(session, code, now)
    return ScanAnswer(True, describe(found), pending, found)


def describe(found: Located) -> str:
    if found.kind is ScanKind.SLOT:
        return (f"库位 {found.code}：{found.occupied}/{found.capacity} 盒"
                + (f"（{', '.join(found.boxes)}）" if found.boxes else ""))
    if found.kind is ScanKind.BOX:
        return (f"档案盒 {found.code} 位于 {found.slot_code or '未上架'}，"
                f"内有 {len(found.volumes)} 卷")
    v = found.volumes[0]
    if v.on_loan:
        return (f"卷宗 {v.volume_no} 借出中：{v.borrower} {v.borrower_team}，"
                f"应还 {v.due_at:%Y-%m-%d}" + ("（已逾期）" if v.loan_state == "overdue" else ""))
    return f"卷宗 {v.volume_no} 在 {v.box_code or '未装盒'} · {v.slot_code or '未上架'}"
