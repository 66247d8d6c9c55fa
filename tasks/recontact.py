"""Batch tasks of `recontact`: attribution, one match run, one send run. Never one task per candidate.

Results are counts and markdown with opaque ids only (no names, no addresses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from junkan.config import get_settings
from junkan.db import make_engine
from junkan.pool import recontact
from tasks.limits import throttled_backend
from tasks.retry import retry_transient


@task(name="record-reapplications", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def record_reapplications_task(as_of: date | None = None) -> int:
    """Idempotent: an application is recorded at most once."""
    settings = get_settings()
    return recontact.attribute(make_engine(settings.database_url), settings, as_of)


@task(name="match-new-openings", cache_policy=NO_CACHE)
def match_new_openings_task(as_of: date | None = None, mode: str | None = None,
                            dry_run: bool = False) -> dict[str, Any]:
    """Refresh the pool and scores, match every new opening, store the run (and, in auto mode, enqueue
    the mails in the same transaction). Not retried: a retry would be a second run."""
    settings = get_settings()
    out = recontact.match_and_store(make_engine(settings.database_url), settings, as_of=as_of, mode=mode,
                                    dry_run=dry_run)
    get_run_logger().info("recontact run %s: %s", out.run_id, out.counts)
    return {"run_id": out.run_id, "counts": out.counts, "summary_md": out.summary_md,
            "digest_md": out.digest_md, "model_md": out.model_md, "csv_path": out.csv_path}


@task(name="send-recontact", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE,
      retry_condition_fn=retry_transient)
def send_recontact_task(as_of: date | None = None) -> dict[str, int]:
    """The outbox makes sending exactly-once; a retried send run skips what is sending or settled."""
    settings = get_settings()
    with throttled_backend(settings) as backend:
        counts = recontact.send(make_engine(settings.database_url), settings, as_of=as_of, backend=backend)
    get_run_logger().info("recontact send: %s", counts)
    return counts
