"""The ingest task: one task per run, streaming every batch inside it (never one task per record).

The adapter is built inside the task, from the run's Runtime (junkan/runtime.py), so nothing unpicklable
or personal becomes a task parameter. Retrying is safe because ingest is idempotent and the watermark only
moves with the last committed batch.
"""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from junkan.ats.factory import build_adapter
from junkan.db.errors import database_errors_scrubbed
from junkan.ingest import ingest
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient
from tasks.limits import ATS_LIMIT, provider_throttle


@task(
    name="ingest-applications",
    retries=3,
    retry_delay_seconds=[30, 120, 600],
    retry_jitter_factor=0.2,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    result_serializer=RESULT_SERIALIZER,
)
@database_errors_scrubbed
def ingest_applications_task(as_of: date | None = None, full: bool = False) -> dict[str, int]:
    """Ingest the configured ATS source; returns counts only (no personal data)."""
    rt = runtime(as_of)
    settings = rt.settings
    adapter = build_adapter(settings.ats, timezone=settings.business.timezone,
                            throttle=provider_throttle(ATS_LIMIT))
    logger = get_run_logger()
    try:
        counts = ingest(
            rt.engine,
            adapter,
            source=settings.ats.source,
            as_of=rt.clock.as_of,
            clock=rt.clock.now,
            run_id=flow_run.get_id(),
            phone_region=settings.ats.phone_region,
            full=full,
            timezone=settings.business.timezone,
            consent=settings.consent,
            hash_key=settings.retention.key_bytes(),
        )
    finally:
        adapter.close()
    stats = getattr(adapter, "stats", None)
    logger.info("ingest %s: %s (adapter: %s)", settings.ats.source, counts.as_dict(), stats or {})
    return counts.as_dict()
