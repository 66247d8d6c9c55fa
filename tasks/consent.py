"""Batch task of the consent lifecycle: one renewal run (enqueue, cancel the moot, send). Counts only."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db.errors import database_errors_scrubbed
from junkan.outbox.renewal_mail import run_renewals
from junkan.runtime import runtime
from tasks.persistence import RESULT_SERIALIZER
from tasks.retry import retry_transient


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
