"""The error types shared by dms and its leaf libraries (``ocr_worker``, ``search``).

The libraries must not import the application (``dms``), yet the application catches their
errors as its own: ``except DmsError`` in the CLI, the web error handlers and the task
decorator must see an OCR timeout or a bad query. So the root of the hierarchy and the
errors the libraries raise live here, below both; ``dms.errors`` re-exports them and adds
the application's own (not found, forbidden, conflict, storage).

``code`` is stable for APIs; ``http_status`` and ``exit_code`` are what the web layer and
the CLI answer with.
"""
from __future__ import annotations

__all__ = [
    "BadDocumentError",
    "ConfigError",
    "DmsError",
    "ExternalToolError",
    "ExternalToolTimeout",
    "InvalidInputError",
    "MissingDependencyError",
    "OcrError",
    "QueryError",
    "SearchError",
    "SearchIndexUnreadable",
]


class DmsError(Exception):
    """Base of every error dms raises on purpose. ``code`` is stable for APIs."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

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
