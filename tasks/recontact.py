"""Batch tasks of `recontact`: attribution, one match run, one send run. Never one task per candidate.

The match run scores the pool in partitions, each one `match-partition` task (a few per run: one per
`JUNKAN_RECONTACT__PARTITION_SIZE` eligible people), submitted on the task runner that
`JUNKAN_RECONTACT__TASK_RUNNER` names: `thread` (this process, one after another) or `dask` (prefect-dask,
on the cluster at `JUNKAN_RECONTACT__DASK_ADDRESS`, or a local one started for the run). Results are
counts and markdown with opaque ids only (no names, no addresses).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from junkan.config import Settings
from junkan.pool import recontact
from junkan.pool.approval import form_markdown
from junkan.pool.match_problem import MatchProblem, PoolPartition
from junkan.pool.matcher import PartitionMapper
from junkan.pool.partition_scoring import PartialMatches, score_partition
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient
from tasks.limits import ATS_LIMIT, provider_throttle, throttled_backend


@task(name="record-reapplications", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE,
      retry_condition_fn=retry_transient)
def record_reapplications_task(as_of: date | None = None) -> int:
    """Idempotent: an application is recorded at most once."""
    rt = runtime(as_of)
    return recontact.attribute(rt.engine, rt.settings, rt.clock)


@task(name="match-partition", cache_policy=NO_CACHE, persist_result=False,
      result_serializer=RESULT_SERIALIZER)
def match_partition_task(problem: MatchProblem, part: PoolPartition) -> PartialMatches:
    """One id range of the pool against every new opening. Reads no database and no setting, so it runs
    on any Dask worker that can import junkan; what it gets holds no name and no address."""
    return score_partition(problem, part)


def partition_runner(settings: Settings) -> TaskRunner[Any]:
    cfg = settings.recontact
    if cfg.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        return DaskTaskRunner(address=cfg.dask_address) if cfg.dask_address else DaskTaskRunner()
    # One partition at a time: the memory of a run is bounded by one partition's matrix.
    return ThreadPoolTaskRunner(max_workers=1)


def on_task_runner(settings: Settings) -> PartitionMapper:
    """Each partition becomes one `match-partition` task on the configured runner."""
    def run(problem: MatchProblem, parts: Iterable[PoolPartition]) -> list[PartialMatches]:
        with partition_runner(settings) as runner:
            futures = [runner.submit(match_partition_task, {"problem": problem, "part": part})
                       for part in parts]
            return [f.result() for f in futures]
    return run


@task(name="match-new-openings", cache_policy=NO_CACHE)
def match_new_openings_task(as_of: date | None = None, mode: str | None = None,
                            dry_run: bool = False) -> dict[str, Any]:
    """Refresh the pool and scores, match every new opening, store the run (and, in auto mode, enqueue
    the mails in the same transaction). Not retried: a retry would be a second run."""
    rt = runtime(as_of)
    out = recontact.match_and_store(rt.engine, rt.settings, rt.clock, mode=mode, dry_run=dry_run,
                                    map_partitions=on_task_runner(rt.settings))
    get_run_logger().info("recontact run %s: %s", out.run_id, out.counts)
    return {"run_id": out.run_id, "counts": out.counts, "summary_md": out.summary_md,
            "digest_md": out.digest_md, "model_md": out.model_md, "csv_path": out.csv_path}


@task(name="approval-form", cache_policy=NO_CACHE)
def approval_form_task(run_id: int) -> dict[str, Any]:
    """What the approval form shows: per job, its people by opaque id with score and a one-line reason."""
    rt = runtime()
    options = recontact.approval_choices(rt.engine, rt.settings, run_id)
    jobs = [{"field": o.field, "title": o.title, "refs": [p.ref for p in o.people]} for o in options]
    return {"markdown": form_markdown(options), "jobs": jobs}


@task(name="apply-approval", cache_policy=NO_CACHE)
def apply_approval_task(run_id: int, approved: dict[str, list[str]] | None, reviewer: str = "",
                        comment: str = "") -> dict[str, Any]:
    """Keep the approved matches only (None: the pause timed out, nobody is approved); counts + markdown."""
    rt = runtime()
    counts, markdown = recontact.apply_approval(rt.engine, rt.settings, run_id, approved, reviewer=reviewer,
                                                comment=comment)
    return {"counts": counts, "markdown": markdown}


@task(name="write-back-to-ats", cache_policy=NO_CACHE)
def write_back_task(run_id: int | None, dry_run: bool = False) -> dict[str, int]:
    """One batch task for every write of the run: tags, notes (and prospects) in Greenhouse or Lever,
    under the ATS rate limit. Not retried by Prefect: the writes are keyed, and what failed waits for the
    next run; a failure is counted, never raised."""
    rt = runtime()
    counts = recontact.write_back(rt.engine, rt.settings, run_id=run_id, dry_run=dry_run,
                                  throttle=provider_throttle(ATS_LIMIT))
    get_run_logger().info("recontact write-back: %s", counts)
    return counts


@task(name="send-recontact", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE,
      retry_condition_fn=retry_transient)
def send_recontact_task(as_of: date | None = None) -> dict[str, int]:
    """The outbox makes sending exactly-once; a retried send run skips what is sending or settled."""
    rt = runtime(as_of)
    with throttled_backend(rt.settings, rt.clock.now) as backend:
        counts = recontact.send(rt.engine, rt.settings, rt.clock, backend=backend)
    get_run_logger().info("recontact send: %s", counts)
    return counts
