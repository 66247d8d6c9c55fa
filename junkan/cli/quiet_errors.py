"""Keep tracebacks of operator errors out of the CLI's output.

A refused file or setting (`AtsError`, `ConfigError`), or a database that is unreachable or not migrated
(`DatabaseUnreachable`, `SchemaNotCurrent`), already says in one line what is wrong and how to fix
it; the traceback Prefect's engine logs with it only buries that line. Tracebacks of everything else are kept:
those are bugs or outages, and whoever looks into them needs the stack.
"""

from __future__ import annotations

import logging

from junkan.ats.base import AtsError
from junkan.config import ConfigError
from junkan.db.schema import DatabaseUnreachable, SchemaNotCurrent

OPERATOR_ERRORS: tuple[type[BaseException], ...] = (AtsError, ConfigError, SchemaNotCurrent,
                                                    DatabaseUnreachable)


class OperatorErrorTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], OPERATOR_ERRORS):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_operator_error_tracebacks() -> None:
    """Attach the filter to every handler configured so far (Prefect configures its own at import)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    tracebacks = OperatorErrorTracebacks()
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, OperatorErrorTracebacks) for f in handler.filters):
                handler.addFilter(tracebacks)
