"""The append-only audit log."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from dms.db.models import AuditEvent
from dms.errors import ConflictError


def record(session: Session, *, actor: str, action: str, entity: str, entity_id: object,
           from_state: str = "", to_state: str = "", reason: str = "",
           data: dict[str, Any] | None = None) -> AuditEvent:
    ev = AuditEvent(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                    from_state=from_state, to_state=to_state, reason=reason, data=data or {})
    session.add(ev)
    return ev


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper: Any, _conn: Any, target: AuditEvent) -> None:
    raise ConflictError(f"audit event {target.id} is append-only")
