"""The OpenAPI 3.1 description of every JSON API, built from the pydantic models that also
validate the requests (dms.web.api_models), served at ``/api/openapi.json``.

tests/web/test_openapi.py checks that every ``/api/`` route of the app is described here and
runs schemathesis against a live server with it.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from dms import __version__
from dms.domain.access import Action
from dms.web import api_models as m
from dms.web.access import requires
from search.base import FILTER_FIELDS

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
# Scanner stations (DMS_STATION_TOKEN) and systems (dms events token) send a Bearer token.
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
# A logged-in browser's cookie; its POSTs also need a same-origin Origin or X-CSRFToken.
COOKIE: list[dict[str, list[str]]] = [{"session": []}]
_ERRORS = {"400": "invalid input (the field is named)", "401": "not authenticated",
           "403": "not allowed, or cross-site", "404": "not found",
           "409": "conflicts with the archive's state", "413": "body too large"}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": REF.format(model=ref)}}}}


def _op(summary: str, security: list[dict[str, list[str]]], *, ok: str = "200",
        body: type[BaseModel] | None = None, body_required: bool = True,
        params: list[dict[str, Any]] | None = None, tag: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary, "tags": [tag], "security": security,
        "responses": {ok: {"description": "done",
                           "content": {"application/json": {"schema": {"type": "object"}}}},
                      **{code: {"description": text, **_json("Error")}
                         for code, text in _ERRORS.items()}},
    }
    if body is not None:
        op["requestBody"] = {"required": body_required, **_json(body.__name__)}
    if params:
        op["parameters"] = params
    return op


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    p = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        p["description"] = description
    return p


CODE = {"type": "string", "minLength": 1, "maxLength": 64}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def _search_params() -> list[dict[str, Any]]:
    props = m.SearchParams.model_json_schema(by_alias=True)["properties"]
    params = [_query(name, {k: v for k, v in schema.items() if k != "title"},
                     schema.get("description", "")) for name, schema in props.items()]
    text = {"type": "string", "maxLength": 500}
    return params + [_query(f, {"type": "array", "items": text, "maxItems": 20}, "filter")
                     for f in FILTER_FIELDS]


def _error_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "hint": {"type": ["string", "null"]}}},
        "field": {"type": ["string", "null"],
                  "description": "the request field that was wrong, if one was"}}}


MODELS: tuple[type[BaseModel], ...] = (
    m.EventIn, m.BatchIn, m.RoomIn, m.BoxesIn, m.VolumeIn, m.MoveIn, m.StocktakeIn,
    m.LoanRequestIn, m.LoanActionIn, m.ReturnIn)


@cache
def spec() -> dict[str, Any]:
    batch = _path("batch_id", ID)
    upload = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "maxItems": 50},
            "path": {"type": "array", "items": {"type": "string", "maxLength": 500},
                     "description": "per file, e.g. 3301000001_张三/YK2024000001/合同.pdf"}}}}}}
    upload_op = _op("Upload scanned files into an open batch (streamed to disk)", BEARER,
                    tag="ingest")
    upload_op["requestBody"] = upload
    upload_op["parameters"] = [batch]
    paths: dict[str, Any] = {
        "/api/v1/events": {"post": _op(
            "A business step completed in the marketing system (idempotent by event_id)",
            BEARER, ok="201", body=m.EventIn, tag="events")},
        "/api/v1/ingest/batches": {"post": _op(
            "Open an upload batch", BEARER, ok="201", body=m.BatchIn, body_required=False,
            tag="ingest")},
        "/api/v1/ingest/batches/{batch_id}/files": {"post": upload_op},
        "/api/v1/ingest/batches/{batch_id}/close": {"post": _op(
            "Close a batch; its report", BEARER, params=[batch], tag="ingest")},
        "/api/v1/ingest/batches/{batch_id}": {"get": _op(
            "A batch's state and report", BEARER, params=[batch], tag="ingest")},
        "/api/v1/search": {"get": _op(
            "Search the archive's pages (within the user's teams)", COOKIE,
            params=_search_params(), tag="search")},
        "/api/physical/locate/{code}": {"get": _op(
            "Where a box, volume or business is", COOKIE, params=[_path("code", CODE)],
            tag="physical")},
        "/api/physical/suggest": {"get": _op(
            "A free slot for a box", COOKIE, tag="physical",
            params=[_query("box", CODE), _query("customer", CODE)])},
        "/api/physical/rooms": {"post": _op("Configure a room and its shelving", COOKIE,
                                            ok="201", body=m.RoomIn, tag="physical")},
        "/api/physical/boxes": {"post": _op("New empty boxes", COOKIE, ok="201",
                                            body=m.BoxesIn, tag="physical")},
        "/api/physical/volumes": {"post": _op("Form a volume", COOKIE, ok="201",
                                              body=m.VolumeIn, tag="physical")},
        "/api/physical/moves": {"post": _op("Move a box to a slot", COOKIE, body=m.MoveIn,
                                            tag="physical")},
        "/api/physical/boxes/{code}/history": {"get": _op(
            "A box's moves", COOKIE, params=[_path("code", CODE)], tag="physical")},
        "/api/physical/stocktake": {"post": _op("Compare scans with the records", COOKIE,
                                                body=m.StocktakeIn, tag="physical")},
        "/api/physical/loans": {"post": _op("Request a loan", COOKIE, ok="201",
                                            body=m.LoanRequestIn, tag="physical")},
        "/api/physical/loans/{loan_id}/{action}": {"post": _op(
            "Approve, reject, check out or cancel a loan", COOKIE, body=m.LoanActionIn,
            body_required=False, tag="physical",
            params=[_path("loan_id", ID), _path("action", {
                "type": "string", "enum": ["approve", "reject", "checkout", "cancel"]})])},
        "/api/physical/returns": {"post": _op("Return a volume", COOKIE, body=m.ReturnIn,
                                              tag="physical")},
        "/api/physical/loans/overdue": {"get": _op("Overdue loans", COOKIE, tag="physical")},
    }
    schemas = {model.__name__: model.model_json_schema(ref_template=REF) for model in MODELS}
    schemas["Error"] = _error_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": "dms JSON API", "version": __version__,
                 "description": "客户档案管理系统的 JSON 接口 / the JSON APIs of dms. Every bad "
                                "input is a 4xx naming the field."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
    }


@bp.get("/api/openapi.json")
@requires(Action.PUBLIC)  # the description of the APIs; every API itself needs a token/login
def openapi_json() -> Response:
    return jsonify(spec())
