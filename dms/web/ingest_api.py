"""The scanner-station upload API: the same ingest engine as ``dms ingest``, over HTTP.

POST /api/v1/ingest/batches                 -> {"batch_id"}
POST /api/v1/ingest/batches/<id>/files      multipart: ``file`` parts + ``path`` fields, paired
                                              in order (or the part's filename when no paths)
POST /api/v1/ingest/batches/<id>/close      -> the report
GET  /api/v1/ingest/batches/<id>            -> status + report

Uploaded parts are streamed to temp files in settings.work_dir, never held in memory.
"""
from __future__ import annotations

import hmac
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import parse_form_data

from dms.db.models import IngestBatch
from dms.db.session import session_scope
from dms.errors import (ConflictError, DmsError, InvalidInputError, NotFoundError,
                        PermissionDeniedError)
from dms.domain.access import Action
from dms.services import access, tokens
from dms.services.access import Principal
from dms.services.container import Services
from dms.web.access import action_of, requires
from dms.web.api_models import BatchIn, json_body
from ingest.batch import FileOutcome, IngestRun, create_batch, finish_batch
from ingest.layout import Item, normalise_rel_path
from ingest.report import build_report

ingest_api = Blueprint("ingest_api", __name__, url_prefix="/api/v1/ingest")

UPLOAD_WORKERS = 4
LEGACY_STATION = "station"  # who the deprecated shared DMS_STATION_TOKEN speaks for
log = logging.getLogger(__name__)


class StationAuthError(PermissionDeniedError):
    code = "unauthorized"
    http_status = 401


class ApiDisabledError(PermissionDeniedError):
    code = "ingest_api_disabled"


def _services() -> Services:
    svc: Services = current_app.extensions["dms"]
    return svc


@ingest_api.before_request
def _authenticate() -> None:
    """Each station has its own token (``dms tokens create --station NAME``); the shared
    ``DMS_STATION_TOKEN`` still works, deprecated, as the station named "station"."""
    svc = _services()
    legacy = svc.settings.station_token.get_secret_value()
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""
    if not legacy and not tokens.any_active(svc, "station"):
        raise ApiDisabledError("the station upload API is disabled",
                               hint="create a station token: dms tokens create --station NAME")
    if legacy and given and hmac.compare_digest(given.encode("utf-8"), legacy.encode("utf-8")):
        log.warning("DMS_STATION_TOKEN is deprecated: it is one token shared by every station; "
                    "give each station its own with 'dms tokens create --station NAME'")
        who = Principal(subject="station", name=LEGACY_STATION)
    else:
        try:
            who = tokens.authenticate(svc, given, "station")
        except tokens.TokenAuthError as exc:
            raise StationAuthError(exc.message, hint=exc.hint) from None
    view = current_app.view_functions.get(request.endpoint or "")
    action = action_of(view, request.view_args) if view else None
    if action is None:
        raise PermissionDeniedError("this route declares no action")
    access.require(who, action)
    g.station = who


def _station() -> Principal:
    who: Principal = g.station
    return who


@ingest_api.errorhandler(DmsError)
def _dms_error(exc: DmsError) -> tuple[Response, int]:
    body = {"error": {"code": exc.code, "message": exc.message, "hint": exc.hint},
            "field": exc.field}
    resp = jsonify(body)
    if isinstance(exc, StationAuthError):
        resp.headers["WWW-Authenticate"] = 'Bearer realm="dms-ingest"'
    return resp, exc.http_status


@ingest_api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    code = (exc.name or "error").lower().replace(" ", "_")
    return jsonify({"error": {"code": code, "message": exc.description}}), exc.code or 500


def _batch(session: Any, batch_id: int) -> IngestBatch:
    """An upload batch of the calling station: another station's batch is refused."""
    batch = session.get(IngestBatch, batch_id)
    if batch is None or not batch.source.startswith("upload:"):
        raise NotFoundError(f"no upload batch {batch_id}")
    if batch.source != _source(_station()):
        raise PermissionDeniedError(f"batch {batch_id} belongs to another station")
    return batch


def _source(station: Principal) -> str:
    return f"upload:{station.name[:100]}"


@ingest_api.post("/batches")
@requires(Action.BATCH_UPLOAD)
def create() -> tuple[Response, int]:
    json_body(BatchIn, optional=True)  # validated (bounded); the name it may give is not used
    # The batch is the token's station's, whatever name the body gives: that is what
    # scopes its reports to that station.
    batch_id = create_batch(_services(), _source(_station()), status="open")
    return jsonify({"batch_id": batch_id, "status": "open"}), 201


@ingest_api.post("/batches/<int:batch_id>/files")
@requires(Action.BATCH_UPLOAD)
def upload(batch_id: int) -> Response:
    svc = _services()
    with svc.sessions() as s:
        if _batch(s, batch_id).status != "open":
            raise ConflictError(f"batch {batch_id} is closed")
    work_dir = svc.settings.work_dir / "ingest-upload"
    work_dir.mkdir(parents=True, exist_ok=True)
    temps: list[str] = []

    def stream_factory(total_content_length: int | None, content_type: str | None,
                       filename: str | None, content_length: int | None = None) -> IO[bytes]:
        fh = tempfile.NamedTemporaryFile(dir=work_dir, prefix="up-", delete=False)
        temps.append(fh.name)
        return fh  # type: ignore[return-value]

    try:
        _stream, form, files = parse_form_data(
            request.environ, stream_factory=stream_factory,
            max_content_length=current_app.config.get("MAX_CONTENT_LENGTH"))
        parts = files.getlist("file")
        paths = form.getlist("path")
        if not parts:
            raise InvalidInputError("no 'file' parts in the upload")
        if paths and len(paths) != len(parts):
            raise InvalidInputError(f"{len(parts)} 'file' parts but {len(paths)} 'path' fields")
        items = []
        for i, part in enumerate(parts):
            part.stream.flush()
            tmp = Path(part.stream.name)  # type: ignore[attr-defined]
            rel, problem = normalise_rel_path(paths[i] if paths else part.filename or "")
            items.append(Item(rel_path=rel, path=tmp, size=tmp.stat().st_size,
                              name_problem=problem))
        results: list[FileOutcome] = []
        # No manifest here: a station states placement through the relative paths.
        run = IngestRun(svc, current_app.extensions["dms_dispatcher"], batch_id,
                        workers=min(UPLOAD_WORKERS, len(items)), on_result=results.append)
        run.run(items)
        for part in parts:
            part.stream.close()
    finally:
        for name in temps:
            try:
                os.unlink(name)
            except OSError:
                pass
    return jsonify({"batch_id": batch_id, "results": [r.to_dict() for r in results],
                    "warnings": run.warnings})


@ingest_api.post("/batches/<int:batch_id>/close")
@requires(Action.BATCH_UPLOAD)
def close(batch_id: int) -> Response:
    svc = _services()
    with svc.sessions() as s:
        batch = _batch(s, batch_id)
        if batch.status != "open":
            return jsonify({"batch_id": batch_id, "status": batch.status,
                            "report": batch.report})
        started = batch.started_at
    elapsed = _elapsed_since(started)
    report = finish_batch(svc, batch_id, elapsed_s=elapsed)
    return jsonify({"batch_id": batch_id, "status": report.status, "report": report.to_dict()})


@ingest_api.get("/batches/<int:batch_id>")
@requires(Action.BATCH_READ)
def status(batch_id: int) -> Response:
    svc = _services()
    with session_scope(svc.sessions) as s:
        batch = _batch(s, batch_id)
        report = batch.report if batch.status != "open" else build_report(s, batch_id).to_dict()
        return jsonify({"batch_id": batch_id, "status": batch.status, "source": batch.source,
                        "started_at": _iso(batch.started_at),
                        "finished_at": _iso(batch.finished_at), "report": report})


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def _elapsed_since(started: Any) -> float:
    if started is None:
        return 0.0
    now = datetime.now(UTC)
    if started.tzinfo is None:  # SQLite returns naive UTC
        now = now.replace(tzinfo=None)
    return max(0.0, (now - started).total_seconds())
