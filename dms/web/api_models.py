"""Typed request bodies and query parameters of the JSON APIs (issue 16).

Every JSON body is validated here before any handler code runs, so a missing, non-numeric,
out-of-range or oversized field is a 400 naming the field, and nothing is half-written.
The same models produce the OpenAPI description (``dms.web.openapi``).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dms.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)

Code = Annotated[str, Field(min_length=1, max_length=32)]
ShortText = Annotated[str, Field(max_length=200)]
Note = Annotated[str, Field(max_length=500)]
# Earliest business a utility's archive goes back to; later than now (+ clock skew) is a typo.
EARLIEST_EVENT = datetime(1990, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


class ApiModel(BaseModel):
    # Unknown keys are ignored (the marketing system may send more than dms reads).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# --- physical archive ----------------------------------------------------------------------

class RoomIn(ApiModel):
    number: int = Field(ge=1, le=99, description="room number (two digits in location codes)")
    name: ShortText = ""
    unit_count: int = Field(1, ge=1, le=99)
    first_unit: int = Field(1, ge=1, le=99)
    sections: int = Field(10, ge=1, le=99)
    levels: int = Field(6, ge=1, le=99)
    sides: str = Field("AB", pattern=r"^[ABab, ]{1,4}$", description="A, B or AB")
    boxes_per_slot: int = Field(10, ge=1, le=200)


class BoxesIn(ApiModel):
    count: int = Field(1, ge=1, le=10_000)
    capacity: int = Field(10, ge=1, le=100)


class VolumeIn(ApiModel):
    business_no: Annotated[str, Field(max_length=32)] | None = None
    customer_no: Annotated[str, Field(max_length=32)] | None = None
    title: ShortText = ""
    box_code: Annotated[str, Field(max_length=32)] | None = None


class MoveIn(ApiModel):
    box: Code
    slot: Code


class StocktakeIn(ApiModel):
    first: Code
    last: Code
    scans: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list,
                                                             max_length=20_000)


class LoanRequestIn(ApiModel):
    volume_no: Code
    reason: Note = ""
    note: Note = ""


class LoanActionIn(ApiModel):
    note: Note = ""
    reason: Note = ""
    days: int | None = Field(None, ge=1, le=366, description="check-out: days until due")


class ReturnIn(ApiModel):
    volume_no: Code


# --- ingest (scanner stations) ---------------------------------------------------------------

class BatchIn(ApiModel):
    station: Annotated[str, Field(max_length=100)] | None = None


# --- events (marketing system) ---------------------------------------------------------------

class EventIn(ApiModel):
    """A business step completed; the fields of ``dms.domain.lifecycle.parse_step_event``."""

    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    customer_no: Code
    business_no: Code
    business_type: Code
    step: Code
    completed_at: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="ISO 8601, e.g. 2026-03-02T10:00:00+08:00 (naive: the deployment's zone)")
    handler: Annotated[str, Field(min_length=1, max_length=64)]
    team: Annotated[str, Field(max_length=32)] | None = None
    agent_applied: bool | Annotated[str, Field(max_length=8)] = False
    customer_name: Annotated[str, Field(max_length=64)] | None = None
    customer_address: Annotated[str, Field(max_length=200)] | None = None
    customer_kind: Annotated[str, Field(max_length=32)] | None = None

    @field_validator("completed_at")
    @classmethod
    def _in_range(cls, v: str) -> str:
        try:
            at = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("not an ISO 8601 date-time, e.g. 2026-03-02T10:00:00+08:00") \
                from None
        aware = at if at.tzinfo else at.replace(tzinfo=UTC)
        if not EARLIEST_EVENT <= aware <= datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError(f"must be between {EARLIEST_EVENT.date()} and now")
        return v


# --- search ------------------------------------------------------------------------------------

class SearchParams(ApiModel):
    """Query parameters of GET /api/v1/search (validated in dms.web.search_views)."""

    q: Annotated[str, Field(max_length=500)] = ""
    sort: Literal["relevance", "date_desc", "date_asc"] = "relevance"
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    page: int = Field(1, ge=1, le=10_000, description="page * size must not exceed 10000")
    size: int = Field(20, ge=1, le=100)


def validation_error(exc: ValidationError) -> InvalidInputError:
    """The first problem of a ValidationError as a 400 naming the field."""
    errors = exc.errors()
    missing = [".".join(str(p) for p in e["loc"]) for e in errors if e["type"] == "missing"]
    if missing:
        return InvalidInputError("missing fields: " + ", ".join(missing), field=missing[0])
    err = errors[0]
    field = ".".join(str(p) for p in err["loc"]) or "body"
    return InvalidInputError(f"{field}: {err['msg']}", field=field)


def parse(model: type[M], data: object) -> M:
    if not isinstance(data, dict):
        raise InvalidInputError("a JSON object body is required",
                                hint="send Content-Type: application/json", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def json_body(model: type[M], *, optional: bool = False) -> M:
    """The request's JSON body as ``model``; ``optional``: an absent body is ``{}``."""
    data = request.get_json(silent=True)
    if data is None and optional and not request.get_data():
        data = {}
    return parse(model, data)
