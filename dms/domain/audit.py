"""The audit log's vocabulary and its hash chain, without any I/O.

Actions are plain, stable strings: they are stored in ``audit_events.action`` and must
keep their meaning forever (the access policy of issue 16 maps its own actions onto them).
The chain: every entry stores the SHA-256 of a canonical serialisation of its fields and
of the previous entry's hash, so editing, deleting, inserting or reordering any stored
entry breaks the chain at that entry (``find_break``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

GENESIS = "0" * 64  # the "previous hash" of the first entry


class ReadAction(StrEnum):
    """Reads of personal data (issue 17). Writes keep the names their services chose
    (``transition``, ``classified``, ``loan_approved``…)."""

    CUSTOMER_VIEW = "customer_view"
    CUSTOMER_LIST = "customer_list"
    VOLUME_VIEW = "volume_view"
    DOCUMENT_VIEW = "document_view"
    ORIGINAL_DOWNLOAD = "original_download"
    PAGE_IMAGE_VIEW = "page_image_view"
    PAGE_TEXT_VIEW = "page_text_view"
    SEARCHABLE_PDF_VIEW = "searchable_pdf_view"
    SEARCH = "search"
    SIMILAR_SEARCH = "similar_search"
    REPORT_VIEW = "report_view"
    REPORT_EXPORT = "report_export"
    LABEL_PRINT = "label_print"
    DISPUTE_LOOKUP = "dispute_lookup"
    AUDIT_VIEW = "audit_view"
    AUDIT_EXPORT = "audit_export"
    PHYSICAL_LOCATE = "physical_locate"
    REVIEW_QUEUE_VIEW = "review_queue_view"


# Names on the audit page and in its CSV: msgids of dms.translations (Chinese first).
ACTION_NAMES_ZH: dict[str, str] = {
    ReadAction.CUSTOMER_VIEW: "查看客户", ReadAction.CUSTOMER_LIST: "浏览客户列表",
    ReadAction.VOLUME_VIEW: "查看卷宗", ReadAction.DOCUMENT_VIEW: "查看文档",
    ReadAction.ORIGINAL_DOWNLOAD: "下载原件", ReadAction.PAGE_IMAGE_VIEW: "查看页面图像",
    ReadAction.PAGE_TEXT_VIEW: "读取页面文字", ReadAction.SEARCHABLE_PDF_VIEW: "查看可检索PDF",
    ReadAction.SEARCH: "搜索", ReadAction.SIMILAR_SEARCH: "相似文档搜索",
    ReadAction.REPORT_VIEW: "查看报表", ReadAction.REPORT_EXPORT: "导出报表",
    ReadAction.LABEL_PRINT: "打印标签", ReadAction.DISPUTE_LOOKUP: "纠纷查档",
    ReadAction.AUDIT_VIEW: "查看审计日志", ReadAction.AUDIT_EXPORT: "导出审计日志",
    ReadAction.PHYSICAL_LOCATE: "查询实物位置", ReadAction.REVIEW_QUEUE_VIEW: "浏览复核队列",
    "transition": "状态流转", "document_deleted": "删除文档",
    # what the services write (dms.db.audit.record's actions)
    "step_completed": "业务环节完成", "business_typed": "业务类型确定",
    "customer_created": "客户建档", "event_applied": "按事件处理", "event_dismissed": "忽略事件",
    "handler_mapped": "关联经办人", "classified": "分类", "type_corrected": "更正类型",
    "fact_edited": "修改要素", "ocr_finished": "识别完成", "ocr_failed": "识别失败",
    "page_ocr_failed": "页面识别失败", "ocr_reprocess": "重新识别", "original_state": "原件状态",
    "volume_formed": "组卷", "volume_boxed": "装盒", "box_moved": "移动档案盒",
    "boxes_created": "建档案盒", "room_configured": "配置库房", "stock_take": "盘点",
    "loan_requested": "申请借阅", "loan_approved": "批准借阅", "loan_rejected": "驳回借阅",
    "loan_cancelled": "取消借阅", "loan_checked_out": "借出", "loan_returned": "归还",
    # a box's moves (LocationMove.kind), in the same history lists
    "shelve": "上架", "move": "移位",
}
# The kinds of object an audit entry names (its ``entity``).
ENTITY_NAMES_ZH: dict[str, str] = {
    "customer": "客户", "customers": "客户列表", "business": "业务", "document": "文档",
    "page": "页面", "volume": "卷宗", "volumes": "卷宗", "box": "档案盒", "boxes": "档案盒",
    "room": "档案室", "slot_range": "库位范围", "event": "事件", "ingest_batch": "入库批次",
    "user": "用户", "search": "搜索", "gap_report": "缺件报告", "audit_log": "审计日志",
    "missing_facts": "缺少必备信息的文档",
    "loan": "借阅", "searchable_pdf": "可检索PDF", "original": "原件",
}


# --- the hash chain ------------------------------------------------------------------------

def canonical_time(at: datetime) -> str:
    """UTC to the microsecond; SQLite hands back naive values, which are UTC."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """SHA-256 over the entry's fields and the previous hash, serialised as sorted,
    compact JSON (UTF-8), so the same entry hashes the same on every database."""
    payload = json.dumps({"fields": dict(fields), "prev_hash": prev_hash}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    id: int
    seq: int
    prev_hash: str
    hash: str
    fields: Mapping[str, object]  # what entry_hash covers (seq included)


@dataclass(frozen=True)
class ChainBreak:
    seq: int      # the first entry found broken (or missing)
    id: int | None  # its row id, None when the entry is missing
    kind: str     # edited | deleted | reordered | inserted | truncated
    message: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def find_break(entries: Iterable[ChainEntry], head_before: ChainHead,
               read_head_after: Callable[[], ChainHead] | None = None,
               ) -> tuple[int, ChainBreak | None]:
    """Walk entries in ``seq`` order; return how many were checked and the first break.

    ``head_before`` and ``read_head_after()`` give the chain-head row before and after the
    walk:
    entries appended while walking are legitimate, so the last entry seen must lie between
    the two heads (fewer means the tail was deleted, more means rows were inserted).
    Row ids are handed out in chain order (appends are serialised), so an id going
    backwards means rows were reordered.
    """
    prev_hash, expected, prev_id, count = GENESIS, 1, 0, 0
    pending: ChainEntry | None = None

    def check(e: ChainEntry, next_id: int | None) -> ChainBreak | None:
        nonlocal prev_hash, expected, prev_id
        out_of_order = e.id < prev_id or (next_id is not None and next_id < e.id)
        if e.seq > expected:
            return ChainBreak(expected, None, "deleted",
                              f"entry #{expected} is missing (deleted); the next present is "
                              f"#{e.seq} (id {e.id})")
        if e.seq < expected:
            return ChainBreak(e.seq, e.id, "inserted",
                              f"entry #{e.seq} (id {e.id}) appears twice: a row was inserted")
        if e.prev_hash != prev_hash:
            kind = "reordered" if out_of_order else "inserted"
            return ChainBreak(e.seq, e.id, kind,
                              f"entry #{e.seq} (id {e.id}) does not follow entry #{e.seq - 1}: "
                              f"its previous-hash differs ({kind}, or #{e.seq - 1} rewritten)")
        if entry_hash(e.prev_hash, e.fields) != e.hash:
            kind = "reordered" if out_of_order else "edited"
            return ChainBreak(e.seq, e.id, kind,
                              f"entry #{e.seq} (id {e.id}) was changed after it was written: "
                              f"its hash does not match its fields ({kind})")
        prev_hash, expected, prev_id = e.hash, e.seq + 1, e.id
        return None

    for e in entries:
        if pending is not None:
            broken = check(pending, e.id)
            if broken:
                return count, broken
            count += 1
        pending = e
    if pending is not None:
        broken = check(pending, None)
        if broken:
            return count, broken
        count += 1
    last = expected - 1
    head_after = read_head_after() if read_head_after else head_before
    if last < head_before.seq:
        return count, ChainBreak(last + 1, None, "truncated",
                                 f"entries #{last + 1}..#{head_before.seq} are missing "
                                 f"(deleted from the end of the log)")
    if last > head_after.seq:
        return count, ChainBreak(head_after.seq + 1, None, "inserted",
                                 f"entries after #{head_after.seq}, the recorded head of the "
                                 f"log, were inserted")
    for head in (head_before, head_after):
        if head.seq == last and head.hash != prev_hash:
            return count, ChainBreak(last, None, "edited",
                                     f"entry #{last} differs from the recorded head of the log")
    return count, None


# The columns an entry's hash covers, in the names of ``audit_events``.
CHAINED_FIELDS = ("seq", "at", "actor", "action", "entity", "entity_id", "from_state",
                  "to_state", "reason", "data", "customer_no", "remote_addr")


def entry_fields(row: Mapping[str, object]) -> dict[str, object]:
    """The hashed fields of an entry from its column values (a row mapping or a dict)."""
    out = {k: row.get(k) for k in CHAINED_FIELDS}
    for k in ("actor", "action", "entity", "entity_id", "from_state", "to_state", "reason",
              "customer_no", "remote_addr"):
        out[k] = str(out[k] or "")
    at = row.get("at")
    if not isinstance(at, datetime):
        raise ValueError(f"audit entry #{row.get('seq')} has no time")
    out["at"] = canonical_time(at)
    out["seq"] = int(str(row.get("seq")))
    out["data"] = row.get("data") or {}
    return out
