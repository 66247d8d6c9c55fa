"""The one retry condition of the Prefect tasks, and which layer retries which failure.

Each kind of failure is retried by exactly one layer, so the tries never multiply (docs/operations.md,
"Retries: one layer per failure"):

- an HTTP request that is throttled, answers 5xx, times out or cannot connect: the vendor client's
  `RetryPolicy` (junkan/http.py, `max_retries` of the vendor's settings), request by request. When it gives
  up, the task fails and is **not** retried: the next run starts again from the watermark;
- a mail the provider does not take: the mail backend's `RetryPolicy`, then the outbox on the next run
  (a backend never raises for a provider error);
- a lost database connection: the task, retried as a whole batch (`retries=` on each `@task`), which is
  safe because every task is idempotent and commits batch by batch;
- anything else (settings, a 4xx, a bad file, a bug): nobody; only a fix helps.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError

from junkan.http import HttpError, is_retryable
from junkan.partner.records import PartnerError

#: Failures of a vendor API: the client's RetryPolicy has already tried them again before they get here.
RETRIED_BY_THE_CLIENT = (HttpError, PartnerError, httpx.HTTPError)


def is_transient(exc: BaseException) -> bool:
    """Worth a later retry: throttling, 5xx, timeouts, lost connections; not bad settings or a 4xx."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return is_retryable(exc)


def retried_by_the_task(exc: BaseException) -> bool:
    """Transient, and not already retried below the task (an HTTP failure the client gave up on)."""
    return is_transient(exc) and not isinstance(exc, RETRIED_BY_THE_CLIENT)


def retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """`retry_condition_fn` for every @task with `retries`: the task's own exception decides
    (`retried_by_the_task`)."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by result()
        return retried_by_the_task(exc)
    return False
