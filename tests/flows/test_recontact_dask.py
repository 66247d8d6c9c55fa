"""`recontact` with the matcher's partitions on a real Dask cluster — two worker processes, one thread each
— stores exactly the matches of the in-process path, and each partition was one Prefect task run.

Workers are separate processes that import junkan and tasks/ themselves (PYTHONPATH points at this
checkout); they read no database and no JUNKAN_* setting, only the partition they are sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster, get_task_stream
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows.recontact import recontact
from junkan.config import Settings
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.pool.runs import plan_run
from tests.integration._pool_data import AS_OF, NOW, pool_settings
from tests.integration._pool_partition_data import add_partition_pool

ROOT = Path(__file__).resolve().parents[2]
PARTITION_SIZE = 4
COMPARED = ("job_id", "opening_id", "candidate_id", "rank", "score", "required_score", "preferred_score",
            "text_score", "location_score", "potential_score", "why", "bucket")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, env={"PYTHONPATH": path}) as local:
        yield local


def _key(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["job_id"], row["opening_id"] or 0, row["rank"]


def test_dask_partitions_store_exactly_the_in_process_matches(
    engine: Engine, settings: Settings, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    cluster: LocalCluster,
) -> None:
    with Session(engine) as s:
        data = add_partition_pool(s)
        s.commit()
    with Session(engine) as s:
        plan = plan_run(s, pool_settings(settings, top_k=5, threshold=20), as_of=AS_OF, now=NOW,
                        mode="shortlist")
        s.rollback()
    assert plan.matches.partitions == 1
    expected = sorted(({k: r[k] for k in COMPARED} for r in plan.rows), key=_key)

    for name, value in {"DATABASE_URL": database_url, "MAIL__BACKEND": "file",
                        "MAIL__OUTBOX_DIR": str(tmp_path / "outbox"),
                        "RECONTACT__SHORTLIST_DIR": str(tmp_path / "shortlists"), "RECONTACT__TOP_K": "5",
                        "RECONTACT__THRESHOLD": "20", "RECONTACT__PARTITION_SIZE": str(PARTITION_SIZE),
                        "RECONTACT__TASK_RUNNER": "dask",
                        "RECONTACT__DASK_ADDRESS": cluster.scheduler_address}.items():
        monkeypatch.setenv(f"JUNKAN_{name}", value)
    with Client(cluster) as client, get_task_stream(client) as stream:
        state = recontact(as_of=AS_OF, return_state=True)
    assert state.is_completed()
    assert state.result()["matches"] == len(expected) == 15

    with Session(engine) as s:
        run_id = s.scalars(select(MatchRun.id).order_by(MatchRun.id.desc())).first()
        stored = [{k: getattr(m, k) for k in COMPARED}
                  for m in s.scalars(select(PoolMatch).where(PoolMatch.run_id == run_id))]
    assert sorted(stored, key=_key) == expected
    # The vocabulary's columns (canonical skills, occupation family) went to the workers and counted there.
    synonym = {r["candidate_id"]: r for r in stored if r["job_id"] == data.sales_job}[data.synonyms[0]]
    assert synonym["why"].startswith("必須スキル 2/2 一致（BtoB営業＝法人営業、SFDC＝Salesforce）、"
                                     "職種: 法人営業（前回: アカウントエグゼクティブ）")

    partitions = -(-data.members // PARTITION_SIZE)
    with get_client(sync_client=True) as prefect:
        runs = prefect.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="match-partition")),
        )
    assert len(runs) == partitions and all(r.state and r.state.is_completed() for r in runs)
    # The partitions really ran on the cluster, spread over both worker processes.
    workers = {t["worker"] for t in stream.data}
    assert len(stream.data) >= partitions and workers == set(cluster.scheduler_info["workers"])
