"""The `retention` task: one run of every rule, batches inside the library. Counts only."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.db.errors import database_errors_scrubbed
from junkan.privacy.run import run_retention
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient


@task(name="anonymise-due", retries=1, retry_delay_seconds=[30], cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def anonymise_due_task(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Idempotent: a retry finds the committed batches anonymised and goes on with the rest."""
    rt = runtime(as_of)
    settings = rt.settings
    logger = get_run_logger()
    if settings.retention.uses_default_key:
        logger.warning("JUNKAN_RETENTION__HASH_KEY is the shipped demo key; set your own (docs/privacy.md)")
    result = run_retention(rt.engine, settings, rt.clock, dry_run=dry_run)
    counts = result.counts()
    logger.info("retention %s%s: %s", result.as_of, " (dry run)" if dry_run else "", counts)
    return counts
