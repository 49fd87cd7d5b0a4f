"""Secrets out of what DBOS and podium log while durable runs go on.

DBOS logs a failed workflow or step with the exception's text, and a provider error's text is its HTTP response
body, which echoes the API key, the `Authorization` header and the prompt. The records, errors and checkpoints
podium writes are redacted where they are made; a log line is made inside DBOS, so a filter on its logger redacts
each record (message, arguments, exception and stack text) before any handler formats it.
"""

from __future__ import annotations

import logging

from .._core._redact import redact

__all__ = ('install_log_redaction',)

_LOGGERS = ('dbos', 'podium')
"""DBOS logs on `dbos` itself (its loggers do not propagate); `podium` for podium's own and its users' records."""


class _RedactingFilter(logging.Filter):
    """Redacts a record in place; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: the logging module reports that itself
            return True
        redacted = redact(message)
        if redacted is not message or record.args:
            record.msg, record.args = redacted, ()
        if record.exc_info is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(text)  # handlers print `exc_text` as it is
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = _RedactingFilter()


def install_log_redaction() -> None:
    """Put the redacting filter on DBOS's and podium's loggers; a no-op when it is there already."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
