"""Health endpoint: each component ok / degraded / down with the reason and the fix
(see dms.services.health); HTTP 503 when a component is down, else 200."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from dms.domain.access import Action
from dms.services.health import as_json, health_report
from dms.web.access import requires, services
from dms.worker.health import probe_broker

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@requires(Action.PUBLIC)
def healthz() -> Any:
    overall, components = health_report(services(), probe_broker)
    return jsonify(as_json(overall, components)), 503 if overall == "down" else 200
