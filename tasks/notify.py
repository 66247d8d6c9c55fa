"""Batch tasks of `send-rejections`: one enqueue, one send run, one consent-renewal run (enqueue, cancel the
moot, send). Never one task per message (docs/architecture.md, "Batch work"). Each returns counts only.

Both are safe to retry: enqueueing is idempotent on the logical key, and the outbox - not Prefect - makes
sending exactly-once (a retried send run skips what is `sending` or settled). A send refused for its
settings (the shipped sample identity, junkan.mail.identity_guard) is not retried: only a fix helps.
"""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db.errors import database_errors_scrubbed
from junkan.outbox.notices import enqueue_notices, send_notices
from junkan.outbox.renewal_mail import run_renewals
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient
from tasks.limits import throttled_backend


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


@task(name="send-consent-renewals", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def send_consent_renewals_task(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Safe to retry: one renewal per consent record (logical key), and the outbox sends exactly once.
    Does nothing unless `consent.renewal_enabled`."""
    rt = runtime(as_of)
    run = run_renewals(rt.engine, rt.settings, rt.clock, dry_run=dry_run)
    counts = run.counts()
    get_run_logger().info("consent renewals: %s", counts)
    return counts
