"""A logging filter that masks ID, phone and bank account numbers in every record (the
access log's request lines included: a search or look-up by ID number must not leave the
number in the log). Installed on the root handlers by ``dms`` (``install``) and named in
config/logging.yaml for deployments that bring their own logging configuration."""
from __future__ import annotations

import logging

from dms.domain.personal_data import mask_text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format: leave it to the handler to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (default: the root logger), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
            handler.addFilter(RedactPersonalData())
