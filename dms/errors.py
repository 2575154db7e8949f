"""The one error hierarchy of dms.

Every entry point translates these in one place: the web layer into JSON/HTML
errors (``dms.web.errors``), the CLI into exit codes (``dms.cli``), Celery tasks
into retry-or-fail decisions (``ocr_worker.tasks``).
"""
from __future__ import annotations


class DmsError(Exception):
    """Base of every error dms raises on purpose. ``code`` is stable for APIs."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # The request field (query parameter, form or JSON key) that was wrong, so an API
        # client or a form can point at it; None when the error is not about one field.
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(DmsError):
    code = "config_error"
    exit_code = 78  # EX_CONFIG


class MissingDependencyError(ConfigError):
    """A system program or Python package the configuration needs is absent."""

    code = "missing_dependency"


class InvalidInputError(DmsError):
    code = "invalid_input"
    http_status = 400
    exit_code = 65  # EX_DATAERR


class PayloadTooLargeError(InvalidInputError):
    """A request body over its route's limit (uploads are large, everything else small)."""

    code = "payload_too_large"
    http_status = 413


class TooManyAttemptsError(DmsError):
    """Login throttled: too many failures for an account or an address."""

    code = "too_many_attempts"
    http_status = 429
    exit_code = 75  # EX_TEMPFAIL


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


class SearchError(DmsError):
    code = "search_error"
    http_status = 503


class SearchIndexUnreadable(SearchError):
    """The embedded index on disk is of another schema (an older dms) or damaged. It holds
    only what the database and object store hold: ``dms reindex`` rebuilds it."""

    code = "search_index_unreadable"


class QueryError(SearchError, InvalidInputError):
    """The user's query could not be parsed."""

    code = "bad_query"
    http_status = 400


class OcrError(DmsError):
    """OCR of a page failed; ``retryable`` tells the task layer what to do."""

    code = "ocr_error"
    retryable = True


class ExternalToolError(OcrError):
    """An external program (tesseract, pdftoppm) failed or is missing."""

    code = "external_tool_error"


class ExternalToolTimeout(ExternalToolError):
    code = "external_tool_timeout"


class BadDocumentError(OcrError, InvalidInputError):
    """The file itself is broken (corrupt, encrypted, bomb): retrying won't help."""

    code = "bad_document"
    retryable = False


class DatabaseUnavailableError(DmsError):
    """The database cannot be reached (restarting, failing over, the network down). Nothing
    of the request was committed; the same request can be sent again."""

    code = "database_unavailable"
    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE
