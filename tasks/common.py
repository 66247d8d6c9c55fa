"""What every Prefect task shares: how results are kept, which failures are retried, and the alert events
of a sending run.

**Results** are kept as JSON (`RESULT_SERIALIZER`), so a stored result is only what the run returned and a
stored exception only its type and message (docs/architecture.md, "What Prefect persists"). Prefect writes
a failed flow run's exception to result storage whatever `persist_result` says, and its default serializer
pickles the whole object, attributes included. With JSON that file can hold no more than the state message
the API already shows; tasks and flows also raise database errors scrubbed (junkan.db.errors), so that
message names the fault and never the row.

**Retries**: each kind of failure is retried by exactly one layer, so the tries never multiply
(docs/operations.md, "Retries: one layer per failure"):

- an HTTP request that is throttled, answers 5xx, times out or cannot connect: the vendor client's
  `RetryPolicy` (junkan/http.py, `max_retries` of the vendor's settings), request by request. When it gives
  up, the task fails and is **not** retried: the next run starts again from the watermark;
- a mail the provider does not take: the mail backend's `RetryPolicy`, then the outbox on the next run
  (a backend never raises for a provider error);
- a lost database connection: the task, retried as a whole batch (`retries=` on each `@task`), which is
  safe because every task is idempotent and commits batch by batch;
- anything else (settings, a 4xx, a bad file, a bug): nobody; only a fix helps.

**Alerts**: custom Prefect events for the automations of deployments/automations.yaml (docs/operations.md,
Alerts). A sending run emits `junkan.messages.unknown` when at least JUNKAN_ALERTS__UNKNOWN_THRESHOLD of its
messages ended `unknown` (the provider may or may not have taken them: someone has to settle them), and
`junkan.messages.failed` from JUNKAN_ALERTS__FAILED_THRESHOLD refused messages on. The threshold is
decided here, so the automation only has to react to the event. Payloads carry counts only; Prefect adds
the flow run as a related resource, which is how the notification links to the run.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect.events import emit_event
from sqlalchemy.exc import DBAPIError

from junkan.http import HttpError, is_retryable
from junkan.partner.records import PartnerError
from junkan.runtime import settings as run_settings

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


RESULT_SERIALIZER = "json"


EVENT_PREFIX = "junkan.messages."
OUTCOMES = ("unknown", "failed")


def resource_id(flow_name: str) -> str:
    return f"junkan.flow.{flow_name}"


def emit_message_alerts(flow_name: str, counts: dict[str, int]) -> list[str]:
    """Emit one event per outcome whose count reached its threshold; returns the events emitted.

    `counts` holds `unknown` and `failed` (the send counts of the run).
    """
    alerts = run_settings().alerts
    thresholds = {"unknown": alerts.unknown_threshold, "failed": alerts.failed_threshold}
    emitted: list[str] = []
    for outcome in OUTCOMES:
        count = int(counts.get(outcome, 0))
        if count < thresholds[outcome]:
            continue
        name = EVENT_PREFIX + outcome
        emit_event(
            event=name,
            resource={"prefect.resource.id": resource_id(flow_name), "prefect.resource.name": flow_name},
            payload={"flow": flow_name, "count": count, "threshold": thresholds[outcome]},
        )
        emitted.append(name)
    return emitted
