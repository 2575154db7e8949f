"""The one error hierarchy of dms.

Every entry point translates these in one place: the web layer into JSON/HTML
errors (``dms.web.errors``), the CLI into exit codes (``dms.cli``), Celery tasks
into retry-or-fail decisions (``dms.worker.task``). The root and the errors the leaf
libraries raise (OCR, search) are defined in ``errorkit``, below both; they are
re-exported here, so the application names every error as ``dms.errors.X``.
"""
from __future__ import annotations

from errorkit import (
    BadDocumentError,
    ConfigError,
    DmsError,
    ExternalToolError,
    ExternalToolTimeout,
    InvalidInputError,
    MissingDependencyError,
    OcrError,
    QueryError,
    SearchError,
    SearchIndexUnreadable,
)

__all__ = [
    "BadDocumentError",
    "ConfigError",
    "ConflictError",
    "DmsError",
    "ExternalToolError",
    "ExternalToolTimeout",
    "InvalidInputError",
    "LifecycleError",
    "MissingDependencyError",
    "NotFoundError",
    "ObjectNotFoundError",
    "OcrError",
    "PermissionDeniedError",
    "QueryError",
    "SearchError",
    "SearchIndexUnreadable",
    "StorageError",
]


class NotFoundError(DmsError):
    code = "not_found"
    http_status = 404
    exit_code = 66  # EX_NOINPUT


class PermissionDeniedError(DmsError):
    code = "forbidden"
    http_status = 403
    exit_code = 77  # EX_NOPERM


class ConflictError(DmsError):
    code = "conflict"
    http_status = 409


class LifecycleError(ConflictError):
    """A lifecycle transition that the state machine does not allow."""

    code = "lifecycle_error"


class StorageError(DmsError):
    code = "storage_error"
    http_status = 503
    exit_code = 74  # EX_IOERR


class ObjectNotFoundError(StorageError, NotFoundError):
    code = "object_not_found"
    http_status = 404
