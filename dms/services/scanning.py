"""What a barcode scan at the archive room's desk means, and the answer shown at once.

A scanner types like a keyboard and ends with Enter. Scanning a box and then a
slot records a move; in return mode, scanning a volume closes its loan; any
scan can be looked up.
"""
from __future__ import annotations

from collections.abc import Callable
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
from dms.translations import translator

MODES = ("shelve", "return", "locate")


@dataclass
class ScanAnswer:
    ok: bool
    message: str
    pending_box: str = ""
    located: Located | None = None
    suggestion: SlotSuggestion | None = None


def handle_scan(session: Session, code: str, *, pending_box: str, mode: str, user: User,
                checklist: Checklist, now: datetime, locale: str = "zh_CN") -> ScanAnswer:
    """``locale``: the answer's language (messages of ``dms.translations``)."""
    code = code.strip().upper()
    _ = translator(locale)
    try:
        return _handle(session, code, pending_box.strip().upper(), mode, user, checklist, now,
                       _)
    except DmsError as exc:
        return ScanAnswer(False, f"{code}: {exc}", pending_box)


def _handle(session: Session, code: str, pending: str, mode: str, user: User,
            checklist: Checklist, now: datetime, _: Callable[[str], str]) -> ScanAnswer:
    kind = classify_scan(code)
    if mode == "return":
        if kind is not ScanKind.VOLUME:
            return ScanAnswer(False, _("{code}：归还请扫描卷宗条码 (JZ…)").format(code=code),
                              pending)
        loan = lending.return_volume(session, code, actor=user.username, role=Role(user.role),
                                     now=now)
        return ScanAnswer(True, _("已归还 {code}（借阅人 {borrower}）").format(
            code=code, borrower=loan.borrower), "", locate(session, code, now))
    if mode == "shelve" and kind is ScanKind.BOX:
        found = locate(session, code, now)
        hint = suggest_slot(session, box_code=code)
        where = found.slot_code or _("未上架")
        return ScanAnswer(True, _("档案盒 {code}，当前位置 {where}；请扫描目标库位（建议 {hint}）")
                          .format(code=code, where=where, hint=hint.slot_code),
                          code, found, hint)
    if mode == "shelve" and kind is ScanKind.SLOT and pending:
        moved = move_box(session, box_code=pending, slot_code=code, user=user,
                         checklist=checklist, now=now)
        text = (_("已记录移位：{box} {source} → {target}").format(
                    box=moved.box_code, source=moved.from_slot or _("未上架"),
                    target=moved.to_slot)
                if moved.moved else
                _("{box} 已在 {slot}").format(box=moved.box_code, slot=moved.to_slot))
        if moved.archived_businesses:
            text += _("；已归档业务 {businesses}").format(
                businesses=", ".join(moved.archived_businesses))
        return ScanAnswer(True, text, "", locate(session, moved.box_code, now))
    found = locate(session, code, now)
    return ScanAnswer(True, describe(found, _), pending, found)


def describe(found: Located, _: Callable[[str], str] = translator("zh_CN")) -> str:
    if found.kind is ScanKind.SLOT:
        text = _("库位 {code}：{occupied}/{capacity} 盒").format(
            code=found.code, occupied=found.occupied, capacity=found.capacity)
        return text + (f"（{', '.join(found.boxes)}）" if found.boxes else "")
    if found.kind is ScanKind.BOX:
        return _("档案盒 {code} 位于 {slot}，内有 {n} 卷").format(
            code=found.code, slot=found.slot_code or _("未上架"), n=len(found.volumes))
    v = found.volumes[0]
    if v.on_loan:
        text = _("卷宗 {volume} 借出中：{borrower} {team}，应还 {due}").format(
            volume=v.volume_no, borrower=v.borrower, team=v.borrower_team,
            due=f"{v.due_at:%Y-%m-%d}")
        return text + (_("（已逾期）") if v.loan_state == "overdue" else "")
    return _("卷宗 {volume} 在 {box} · {slot}").format(
        volume=v.volume_no, box=v.box_code or _("未装盒"), slot=v.slot_code or _("未上架"))
