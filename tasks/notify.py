"""Batch tasks of `send-rejections`: one enqueue, one send run. Never one task per message
(docs/architecture.md, "Batch work").

Both are safe to retry: enqueueing is idempotent on the logical key, and the outbox - not Prefect - makes
sending exactly-once (a retried send run skips what is `sending` or settled). A send refused for its
settings (the shipped sample identity, junkan.mail.identity_guard) is not retried: only a fix helps.
"""

from __future__ import annotations

from datetime import date, timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db import session_scope
from junkan.db.errors import database_errors_scrubbed
from junkan.db.types import utcnow
from junkan.outbox.notices import enqueue_notices, send_notices
from junkan.outbox.settle import settle_unknown
from junkan.runtime import runtime
from tasks.limits import throttled_backend
from tasks.persistence import RESULT_SERIALIZER
from tasks.retry import retry_transient


@task(name="enqueue-notices", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def enqueue_notices_task(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    rt = runtime(as_of)
    result = enqueue_notices(rt.engine, rt.settings, rt.clock, dry_run=dry_run)
    counts = result.counts()
    get_run_logger().info("enqueue: %s", counts)
    return counts


@task(name="send-notices", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def send_notices_task(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    rt = runtime(as_of)
    with throttled_backend(rt.settings, rt.clock.now) as backend:
        counts = send_notices(rt.engine, rt.settings, rt.clock, dry_run=dry_run, backend=backend)
    result = counts.counts()
    get_run_logger().info("send: %s (errors by cause: %s)", result, counts.errors)
    return result


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
