"""Tasks of `sync-email-events`: pull SendGrid's suppression lists, settle messages from stored events, and
put back to pending the `unknown` messages the webhook proves were never accepted.

Each task obtains the run's Runtime (junkan/runtime.py) and builds its HTTP client inside, so nothing
unpicklable or personal becomes a task parameter. All are safe to retry: merging suppressions, applying
events and settling are idempotent.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db import session_scope
from junkan.db.errors import database_errors_scrubbed
from junkan.db.types import utcnow
from junkan.engagement.reconcile import events_received, reconcile_messages
from junkan.engagement.suppressions import sendgrid_client, sync_suppressions
from junkan.outbox.settle import settle_unknown
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient
from tasks.limits import SENDGRID_LIMIT, provider_throttle


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


@task(name="settle-unknown", retries=1, retry_delay_seconds=[60], cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def settle_unknown_task() -> dict[str, int]:
    """Put back to pending the `unknown` messages the webhook proves were never accepted; count the rest.
    Always on the wall clock: the window is about when events arrive, whatever day a run is for."""
    rt = runtime()
    settings = rt.settings
    with session_scope(rt.engine) as session:
        settled = settle_unknown(session, now=utcnow(),
                                 window=timedelta(seconds=settings.mail.unknown_settle_s))
    logger = get_run_logger()
    if settled.resent:
        logger.warning("settle-unknown: %d unknown message(s) never reached the provider (no event within "
                       "%g s while the webhook reported later ones): back to pending (ids: %s)",
                       len(settled.resent), settings.mail.unknown_settle_s, ", ".join(settled.resent)[:2000])
    logger.info("settle-unknown: %s", settled.counts())
    return settled.counts()
