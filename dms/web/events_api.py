"""The inbound API of the marketing system (营销系统): a business step completed.

POST /api/v1/events     Authorization: Bearer <system token>   (dms events token SYSTEM)
  {"event_id": "…", "customer_no": "…", "business_no": "…", "business_type": "LV_RES_NEW",
   "step": "accept", "completed_at": "2026-03-02T10:00:00+08:00", "handler": "wang",
   "team": "YYB", "agent_applied": false,
   "customer_name": "王五", "customer_address": "…", "customer_kind": "resident"}
  Optional: team, agent_applied, and customer_name (≤64), customer_address (≤200),
  customer_kind (≤32): a customer the archive does not know yet is created from them (a
  new connection is announced before its paper is scanned); empty fields of a known one
  are filled in. A business known only by number (from a scanner folder) takes the
  event's type. A handler who is not a dms user does not reject the event: the task goes
  to the team's queue until an administrator maps the external id (事件对账).
  → 201 accepted (with the archive task: documents the step produces, which are present)
  → 200 duplicate (the same event_id again changes nothing)
  → 400 invalid, 409 conflicting (another type or customer for the business: both values
    in the message; an administrator applies or dismisses it), 401 bad token; rejected
    events are kept.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from dms.errors import DmsError, InvalidInputError
from dms.domain.access import Action
from dms.services import access
from dms.services.access import Principal
from dms.services.container import Services
from dms.services.events import (SystemAuthError, authenticate_system, keep_rejected,
                                 receive_event)
from dms.web.access import requires
from dms.web.api_models import EventIn, parse

events_api = Blueprint("events_api", __name__, url_prefix="/api/v1/events")
# One step of one business: a few hundred bytes. The payload is stored with the event.
MAX_EVENT_BYTES = 16 * 1024


def _services() -> Services:
    svc: Services = current_app.extensions["dms"]
    return svc


@events_api.errorhandler(DmsError)
def _dms_error(exc: DmsError) -> tuple[Response, int]:
    resp = jsonify({"error": {"code": exc.code, "message": exc.message, "hint": exc.hint},
                    "field": exc.field})
    if isinstance(exc, SystemAuthError):
        resp.headers["WWW-Authenticate"] = 'Bearer realm="dms-events"'
    return resp, exc.http_status


@events_api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    code = (exc.name or "error").lower().replace(" ", "_")
    return jsonify({"error": {"code": code, "message": exc.description}}), exc.code or 500


@events_api.post("")
@requires(Action.EVENT_POST)
def post_event() -> tuple[Response, int]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    system = authenticate_system(_services(), token.strip() if scheme.lower() == "bearer" else "")
    access.require(Principal(subject="system", name=system), Action.EVENT_POST)
    payload: Any = request.get_json(silent=True)
    if payload is None:
        raw = request.get_data(as_text=True)[:2000]
        # Keep the unreadable body for inspection like any other rejected event.
        return _reject_unreadable(system, raw)
    try:
        if len(request.get_data()) > MAX_EVENT_BYTES:  # unknown keys are kept with the event
            raise InvalidInputError(f"an event is at most {MAX_EVENT_BYTES // 1024} KB",
                                    field="body")
        parse(EventIn, payload)  # types, lengths, dates in range: before anything is applied
    except InvalidInputError as exc:
        keep_rejected(_services(), system, capped(payload), "api", exc)
        raise
    receipt = receive_event(_services(), system, payload)
    return jsonify(receipt.as_dict()), (201 if receipt.status == "accepted" else 200)


def capped(payload: Any, limit: int = 500) -> Any:
    """A rejected event as kept for inspection: long values cut, so a hostile 5 MB field is
    not stored (issue 16: it was stored whole, twice)."""
    if isinstance(payload, dict):
        return {str(k)[:64]: capped(v, limit) for k, v in list(payload.items())[:50]}
    if isinstance(payload, list):
        return [capped(v, limit) for v in payload[:50]]
    if isinstance(payload, str) and len(payload) > limit:
        return payload[:limit] + f"… ({len(payload)} characters)"
    return payload


def _reject_unreadable(system: str, raw: str) -> tuple[Response, int]:
    exc = InvalidInputError("the request body is not a JSON object",
                            hint="send Content-Type: application/json")
    keep_rejected(_services(), system, {"raw": raw}, "api", exc)
    raise exc
