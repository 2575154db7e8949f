"""Where the learned model lives: the artefact in the object store (shared by every
worker), its row in ``classifier_models`` (version, SHA-256, which one is active).

Loading verifies the SHA-256 and the file's structure; a damaged or missing file means
"rules only" -- logged once per process and reported by :func:`model_status`, never an
exception in the classification path.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dms.classify.model import ModelCorruptError, TextModel
from dms.db.models_classify import ClassifierModel
from dms.errors import DmsError
from dms.storage import ObjectStore

log = logging.getLogger(__name__)

MODEL_PREFIX = "models/classifier"

_lock = threading.Lock()
_loaded: dict[tuple[int, str], TextModel] = {}
_failed: dict[tuple[int, str], str] = {}  # (version, sha) -> why it cannot be used


@dataclass(frozen=True)
class ModelStatus:
    """What classification runs on right now, for the UI and the CLI."""

    mode: str  # "rules" | "rules+model" | "rules (model unusable)"
    version: int | None
    message: str  # Chinese, for the CLI and the log; pages translate ``mode`` (web.review)
    reason: str = ""  # why a model is unusable (the error's own text)

    @property
    def degraded(self) -> bool:
        return self.mode == "rules (model unusable)"


def model_key(version: int) -> str:
    return f"{MODEL_PREFIX}/v{version:05d}.npz"


def save_model(session: Session, store: ObjectStore, model: TextModel, *,
               last_decision_id: int, metrics: dict[str, object]) -> ClassifierModel:
    """Upload the artefact (atomic in both stores), then record it and make it active.
    The row is written after the upload, so no row ever points at a half-written file."""
    data = model.to_bytes()
    key = model_key(model.version)
    store.put_bytes(key, data, "application/octet-stream")
    for row in session.scalars(select(ClassifierModel).where(ClassifierModel.active)):
        row.active = False
    row = ClassifierModel(version=model.version, key=key, sha256=hashlib.sha256(data).hexdigest(),
                          n_documents=int(model.meta.get("n_documents", 0)),
                          last_decision_id=last_decision_id, classes=list(model.classes),
                          metrics=metrics, active=True)
    session.add(row)
    session.flush()
    with _lock:
        _loaded[(row.version, row.sha256)] = model
    return row


def next_version(session: Session) -> int:
    return int(session.scalar(select(func.max(ClassifierModel.version))) or 0) + 1


def active_row(session: Session) -> ClassifierModel | None:
    return session.scalar(select(ClassifierModel).where(ClassifierModel.active)
                          .order_by(ClassifierModel.version.desc()).limit(1))


def load_active(session: Session, store: ObjectStore) -> tuple[TextModel | None, ModelStatus]:
    """The active model (cached per process) and the status to show."""
    row = active_row(session)
    if row is None:
        return None, ModelStatus("rules", None, "仅规则分类：已确认的文档还不够训练模型")
    k = (row.version, row.sha256)
    with _lock:
        if k in _loaded:
            return _loaded[k], ModelStatus("rules+model", row.version,
                                           f"规则 + 学习模型 v{row.version}")
        if k in _failed:
            return None, _unusable(row.version, _failed[k])
    try:
        data = store.get_bytes(row.key)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise ModelCorruptError("SHA-256 of the model file does not match its record")
        model = TextModel.from_bytes(data)
    except (ModelCorruptError, DmsError) as exc:
        why = str(exc)
        log.error("classifier model v%s unusable, falling back to rules: %s", row.version, why)
        with _lock:
            _failed[k] = why
        return None, _unusable(row.version, why)
    with _lock:
        _loaded[k] = model
    return model, ModelStatus("rules+model", row.version, f"规则 + 学习模型 v{row.version}")


def _unusable(version: int, why: str) -> ModelStatus:
    return ModelStatus("rules (model unusable)", version,
                       f"学习模型 v{version} 文件损坏或无法读取，已回退到规则分类"
                       f"（model file unusable, using rules only）：{why}", why)


def forget_cache() -> None:
    """Drop what this process loaded (tests; after replacing a file by hand)."""
    with _lock:
        _loaded.clear()
        _failed.clear()
