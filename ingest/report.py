"""Progress while a batch runs and the per-batch report afterwards.

The report is computed from the IngestFile rows, not from memory: the same
code serves a 100k-file folder run and an upload batch filled by many HTTP
requests (possibly in different processes).
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from dms import translations
from dms.db.models import Business, Customer, Document, IngestBatch, IngestFile
from dms.translations import translator

#: Quarantined files listed one by one in the report; the rest are counted by reason.
MAX_LISTED = 1000


@dataclass(slots=True)
class Progress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed_s: float
    current: str = ""

    @property
    def rate_mb_s(self) -> float:
        return self.bytes_done / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.bytes_done <= 0 or self.bytes_total <= self.bytes_done:
            return None if self.bytes_done <= 0 else 0.0
        return (self.bytes_total - self.bytes_done) / (self.bytes_done / self.elapsed_s)


ProgressCallback = Callable[[Progress], None]


class StderrProgress:
    """A one-line progress display for the CLI, redrawn at most every ``interval`` s."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.files_done >= p.files_total
        if not final and now - self._last < self.interval:
            return
        self._last = now
        eta = f"{p.eta_s:.0f}s" if p.eta_s is not None else "?"
        line = (f"\r{p.files_done}/{p.files_total} files  {p.bytes_done / 1e6:.1f}/"
                f"{p.bytes_total / 1e6:.1f} MB  {p.rate_mb_s:.1f} MB/s  ETA {eta}   ")
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()


@dataclass
class BatchReport:
    batch_id: int
    source: str
    status: str
    files: int = 0
    bytes: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    stored_bytes: int = 0
    elapsed_s: float = 0.0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    quarantined_files: list[dict[str, str]] = field(default_factory=list)
    per_customer: dict[str, dict[str, int]] = field(default_factory=dict)
    per_business: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"files": self.files, "stored": self.stored, "duplicate": self.duplicates,
                "quarantined": self.quarantined}

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id, "source": self.source, "status": self.status,
            "counts": self.counts, "bytes": self.bytes, "stored_bytes": self.stored_bytes,
            "elapsed_s": round(self.elapsed_s, 3),
            "rate_mb_s": round(self.bytes / 1e6 / self.elapsed_s, 2) if self.elapsed_s else None,
            "quarantine_reasons": self.quarantine_reasons,
            "quarantined_files": self.quarantined_files,
            "per_customer": self.per_customer, "per_business": self.per_business,
            "warnings": self.warnings,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary_text(self, locale: str = "zh_CN") -> str:
        _ = translator(locale)
        lines = [
            _("入库批次 {id}（来源：{source}，状态：{status}）").format(
                id=self.batch_id, source=self.source, status=self.status),
            _("文件 {files} 个：新入库 {stored}，重复 {dup}，隔离 {q}").format(
                files=self.files, stored=self.stored, dup=self.duplicates, q=self.quarantined),
            _("数据量 {mb:.1f} MB，用时 {s:.1f} 秒").format(mb=self.bytes / 1e6, s=self.elapsed_s),
        ]
        row = _("新入库 {stored}，重复 {duplicate}")
        if self.quarantine_reasons:
            lines.append(_("隔离原因："))
            lines += [f"  - {r}: {n}" for r, n in sorted(self.quarantine_reasons.items())]
            lines.append(_("隔离文件："))
            lines += [f"  - {q['path']}: {q['reason']}" for q in self.quarantined_files]
            if self.quarantined > len(self.quarantined_files):
                lines.append("  " + _("…另有 {n} 个（见 ingest_files 表）").format(
                    n=self.quarantined - len(self.quarantined_files)))
        if self.per_customer:
            lines.append(_("按户号："))
            lines += [f"  {c}: " + row.format(**v) for c, v in sorted(self.per_customer.items())]
        if self.per_business:
            lines.append(_("按业务编号："))
            lines += [f"  {b}: " + row.format(**v) for b, v in sorted(self.per_business.items())]
        if self.warnings:
            lines.append(_("提示："))
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines) + "\n"


def reason_category(reason: str) -> str:
    """Group reasons for counting: the text before the first ':' or '(' ."""
    for sep in (":", "("):
        reason = reason.split(sep, 1)[0]
    return reason.strip() or "unknown"


def build_report(session: Session, batch_id: int, *, warnings: list[str] | None = None,
                 elapsed_s: float | None = None) -> BatchReport:
    batch = session.get(IngestBatch, batch_id)
    assert batch is not None
    rep = BatchReport(batch_id=batch_id, source=batch.source, status=batch.status,
                      warnings=list(warnings or batch.report.get("warnings", [])))
    if elapsed_s is None:
        end = batch.finished_at or _now_like(batch.started_at)
        elapsed_s = (end - batch.started_at).total_seconds() if batch.started_at else 0.0
    rep.elapsed_s = elapsed_s
    q = select(IngestFile.outcome, func.count(), func.coalesce(func.sum(IngestFile.size_bytes), 0))
    for outcome, n, size in session.execute(
            q.where(IngestFile.batch_id == batch_id).group_by(IngestFile.outcome)):
        rep.files += n
        rep.bytes += int(size)
        if outcome == "stored":
            rep.stored, rep.stored_bytes = n, int(size)
        elif outcome == "duplicate":
            rep.duplicates = n
        else:
            rep.quarantined = n
    qrows = session.execute(select(IngestFile.rel_path, IngestFile.reason).where(
        IngestFile.batch_id == batch_id, IngestFile.outcome == "quarantined")
        .order_by(IngestFile.id)).yield_per(500)
    for i, (path, reason) in enumerate(qrows):
        cat = reason_category(reason)
        rep.quarantine_reasons[cat] = rep.quarantine_reasons.get(cat, 0) + 1
        if i < MAX_LISTED:
            rep.quarantined_files.append({"path": path, "reason": reason})
    biz = aliased(Business)
    grouped = session.execute(
        select(Customer.customer_no, biz.business_no, IngestFile.outcome, func.count())
        .join(Document, Document.id == IngestFile.document_id)
        .join(Customer, Customer.id == Document.customer_id)
        .outerjoin(biz, biz.id == Document.business_id)
        .where(IngestFile.batch_id == batch_id)
        .group_by(Customer.customer_no, biz.business_no, IngestFile.outcome))
    for cust, bno, outcome, n in grouped:
        key = "stored" if outcome == "stored" else "duplicate"
        for table, k in ((rep.per_customer, cust), (rep.per_business, bno)):
            if k:
                row = table.setdefault(k, {"stored": 0, "duplicate": 0})
                row[key] += n
    return rep


def _now_like(dt: Any) -> Any:
    now = datetime.now(UTC)
    return now if dt is None or dt.tzinfo is not None else now.replace(tzinfo=None)


# --- the batch listing (``dms ingest --batches``) -------------------------------------------

# Names of a batch's status (Chinese msgids of dms.translations).
STATUS_NAMES = {"running": "运行中", "open": "上传中", "done": "完成",
                "interrupted": "已中断（再次运行同一目录即续完）"}


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch_id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    files: int  # rows so far: a running or interrupted batch is counted too

    def to_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "source": self.source, "status": self.status,
                "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "files": self.files}


def recent_batches(session: Session, limit: int = 20) -> list[BatchRow]:
    """The newest batches, newest first, with their file counts (two queries)."""
    batches = list(session.scalars(select(IngestBatch).order_by(IngestBatch.id.desc())
                                   .limit(limit)))
    counts: dict[int, int] = {bid: n for bid, n in session.execute(
        select(IngestFile.batch_id, func.count()).where(
            IngestFile.batch_id.in_([b.id for b in batches])).group_by(IngestFile.batch_id))}
    return [BatchRow(b.id, b.source, b.status, b.started_at, b.finished_at,
                     int(counts.get(b.id, 0))) for b in batches]


def batches_text(rows: list[BatchRow], locale: str = "zh_CN") -> str:
    names = translations.names(STATUS_NAMES, locale)
    lines = [f"{r.batch_id:>6}  {r.started_at:%Y-%m-%d %H:%M}  {r.files:>7}  "
             f"{names.get(r.status, r.status)}  {r.source}" for r in rows]
    return "\n".join(lines) + "\n" if lines else ""
