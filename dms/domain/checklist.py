"""The standard checklist (典型资料清单): document types, business types, steps, and the
facts each document type must carry.

Loaded from ``config/checklists.yaml``; a deployment tunes it without code.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dms.domain.facts import FIELDS
from dms.errors import ConfigError

# Expiry reminders (合同预警) are computed from this fact: a document type that expires
# requires it, whether or not the checklist file says so.
END_DATE_FACT = "contract_end"


@dataclass(frozen=True)
class DocumentType:
    code: str
    name: str
    en: str
    step: str
    content: str = ""
    conditional: str = ""
    expires: bool = False
    # Facts (dms.domain.facts.FIELDS) a document of this type is not usable without: its
    # identifier, and for an agreement with a term its end date (issue 20).
    required_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class BusinessStep:
    code: str
    name: str
    order: int


@dataclass(frozen=True)
class BusinessType:
    code: str
    name: str
    required: tuple[str, ...]
    time_limits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Deadlines:
    digitise_and_send_hours: int = 48
    transfer_to_archive_room_days: int = 7
    urge_every_hours: int = 24
    warning_share_of_time_limit: float = 0.8
    contract_expiry_warning_days: int = 90


@dataclass(frozen=True)
class Checklist:
    document_types: dict[str, DocumentType]
    steps: dict[str, BusinessStep]
    business_types: dict[str, BusinessType]
    deadlines: Deadlines
    conditional_on_agent: str = "SQWTS"

    def required_for(
        self, business_type: str, steps_done: set[str] | None = None, *, agent: bool = False
    ) -> list[str]:
        """Document codes required by a business type, optionally only for the
        steps completed so far (completeness gates only what could exist yet)."""
        bt = self.business_type(business_type)
        codes = [
            c for c in bt.required
            if steps_done is None or self.document_types[c].step in steps_done
        ]
        poa = self.document_types.get(self.conditional_on_agent)
        if agent and poa is not None and (steps_done is None or poa.step in steps_done):
            codes.append(poa.code)
        return codes

    def missing(
        self, business_type: str, present: set[str], steps_done: set[str] | None = None,
        *, agent: bool = False,
    ) -> list[str]:
        return [c for c in self.required_for(business_type, steps_done, agent=agent)
                if c not in present]

    def missing_facts(self, doc_type: str | None, facts: Mapping[str, Any] | None
                      ) -> list[str]:
        """The facts a document of ``doc_type`` requires that ``facts`` (its accepted
        facts: valid and unflagged) lack, in the checklist's order. An untyped document or
        a type the checklist does not know requires nothing."""
        known = self.document_types.get(doc_type or "")
        if known is None:
            return []
        present = facts or {}
        return [f for f in known.required_facts if not str(present.get(f) or "").strip()]

    def business_type(self, code: str) -> BusinessType:
        try:
            return self.business_types[code]
        except KeyError:
            raise ConfigError(f"unknown business type {code!r}",
                              hint=f"known: {', '.join(self.business_types)}") from None

    def document_type(self, code: str) -> DocumentType:
        try:
            return self.document_types[code]
        except KeyError:
            raise ConfigError(f"unknown document type {code!r}",
                              hint=f"known: {', '.join(self.document_types)}") from None

    def step_names(self) -> list[str]:
        return [s.code for s in sorted(self.steps.values(), key=lambda s: s.order)]


def parse_checklist(data: dict[str, Any]) -> Checklist:
    try:
        doc_types = {
            code: DocumentType(code=code, name=v["name"], en=v.get("en", ""), step=v["step"],
                               content=v.get("content", ""), conditional=v.get("conditional", ""),
                               expires=bool(v.get("expires", False)),
                               required_facts=_required_facts(code, v))
            for code, v in data["document_types"].items()
        }
        steps = {s["code"]: BusinessStep(code=s["code"], name=s["name"], order=i)
                 for i, s in enumerate(data["business_steps"])}
        business_types = {
            code: BusinessType(code=code, name=v["name"], required=tuple(v["required"]),
                               time_limits=dict(v.get("time_limits") or {}))
            for code, v in data["business_types"].items()
        }
        deadlines = Deadlines(**(data.get("deadlines") or {}))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"checklist is malformed: {exc!r}") from exc
    for bt in business_types.values():
        for c in bt.required:
            if c not in doc_types:
                raise ConfigError(f"business type {bt.code} requires unknown document type {c}")
        for s in bt.time_limits:
            if s not in steps:
                raise ConfigError(f"business type {bt.code} has a time limit for unknown step {s}")
    for dt in doc_types.values():
        if dt.step not in steps:
            raise ConfigError(f"document type {dt.code} belongs to unknown step {dt.step}")
    return Checklist(doc_types, steps, business_types, deadlines)


def _required_facts(code: str, entry: dict[str, Any]) -> tuple[str, ...]:
    """A type's ``required_facts``, known field names only; a type that expires requires
    its end date even when the file (an older deployment's copy) does not list it."""
    listed = entry.get("required_facts") or []
    if not isinstance(listed, list):
        raise ConfigError(f"document type {code}: required_facts must be a list")
    unknown = [f for f in listed if f not in FIELDS]
    if unknown:
        raise ConfigError(f"document type {code} requires unknown facts {unknown}",
                          hint=f"known: {', '.join(FIELDS)}")
    required = tuple(dict.fromkeys(listed))
    if entry.get("expires") and END_DATE_FACT not in required:
        required += (END_DATE_FACT,)
    return required


def load_checklist(path: Path) -> Checklist:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"checklist file not found: {path}",
                          hint="set DMS_CONFIG_DIR to a folder holding checklists.yaml") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"checklist {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"checklist {path} must be a mapping")
    return parse_checklist(data)
