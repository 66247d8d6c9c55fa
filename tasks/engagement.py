"""Tasks of `sync-email-events`: pull SendGrid's suppression lists, then settle messages from stored events.

Each task obtains the run's Runtime (junkan/runtime.py) and builds its HTTP client inside, so nothing
unpicklable or personal becomes a task parameter. Both are safe to retry: merging suppressions and applying
events are idempotent.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db import session_scope
from junkan.db.errors import database_errors_scrubbed
from junkan.engagement.reconcile import events_received, reconcile_messages
from junkan.engagement.suppressions import sendgrid_client, sync_suppressions
from junkan.runtime import runtime
from tasks.limits import SENDGRID_LIMIT, provider_throttle
from tasks.persistence import RESULT_SERIALIZER
from tasks.retry import retry_transient


@task(
    name="pull-sendgrid-suppressions",
    retries=2,
    retry_delay_seconds=[60, 300],
    retry_jitter_factor=0.2,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    result_serializer=RESULT_SERIALIZER,
)
@database_errors_scrubbed
def pull_suppressions_task(as_of: date | None = None) -> dict[str, int]:
    """Merge bounces, blocks, spam reports, invalid e-mails, unsubscribes and the ASM group's list."""
    rt = runtime(as_of)
    settings = rt.settings
    logger = get_run_logger()
    if settings.mail.sendgrid_api_key is None:
        logger.info("no SendGrid API key configured (mail backend %s): suppression lists not pulled",
                    settings.mail.backend)
        return {}
    with sendgrid_client(settings.mail, throttle=provider_throttle(SENDGRID_LIMIT)) as client:
        counts = sync_suppressions(rt.engine, settings.mail, client, now=rt.clock.end_of_day(),
                                   key=settings.retention.key_bytes())
        logger.info("SendGrid suppressions: %s (client: %s)", counts, client.stats)
    return counts


@task(name="reconcile-messages", retries=1, retry_delay_seconds=[60], cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def reconcile_task(as_of: date | None = None) -> dict[str, int]:
    """Attach early events to their messages and settle `unknown` ones; count the day's webhook events."""
    rt = runtime(as_of)
    now = rt.clock.end_of_day()
    with session_scope(rt.engine) as session:
        counts: dict[str, Any] = reconcile_messages(session, now=now, key=rt.settings.retention.key_bytes())
        counts["webhook_events_24h"] = events_received(session, since=now - timedelta(days=1), until=now)
    get_run_logger().info("reconciliation: %s", counts)
    return counts
