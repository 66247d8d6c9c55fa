"""The one retry condition of the Prefect tasks: retry a batch only when the failure may heal by itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from junkan.http import is_retryable


def is_transient(exc: BaseException) -> bool:
    """Worth a later retry: throttling, 5xx, timeouts, lost connections; not bad settings or a 4xx."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return is_retryable(exc)


def retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """`retry_condition_fn` for @task: the task's own exception decides (see is_transient)."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by result()
        return is_transient(exc)
    return False
