"""Flow runs through the Prefect API: trigger a deployment, wait for it, read its sub-flows and artifacts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Crashed

from tests.e2e._prefect import PrefectServer

RUN_DEADLINE_S = 300.0


@contextmanager
def api(server: PrefectServer) -> Iterator[SyncPrefectClient]:
    with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        yield client


def trigger_daily(client: SyncPrefectClient, as_of: date) -> UUID:
    """What an analyst does in the UI: a run of the `daily` deployment for one day."""
    deployment = client.read_deployment_by_name("daily/daily")
    run = client.create_flow_run_from_deployment(
        deployment.id, parameters={"as_of": as_of.isoformat(), "dry_run": False})
    return run.id


def wait_for(client: SyncPrefectClient, run_id: UUID, *, deadline_s: float = RUN_DEADLINE_S,
             until: Callable[[], bool] | None = None) -> FlowRun:
    """Poll the run's state until it is final (or `until()` holds); fail at the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        run = client.read_flow_run(run_id)
        if run.state is not None and run.state.is_final():
            return run
        if until is not None and until():
            return run
        assert time.monotonic() < end, f"flow run {run_id} still {run.state_name} after {deadline_s:.0f} s"
        time.sleep(0.25)  # polling the API's state under a deadline, not a guessed wait


def sub_flow_runs(client: SyncPrefectClient, parent: UUID) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])))


def mark_crashed(client: SyncPrefectClient, run_id: UUID) -> None:
    """What Prefect's zombie detection does for a run whose process died: Crashed, which also hands back
    the deployment's concurrency slot so the next run is not left waiting for it."""
    runs = [client.read_flow_run(run_id), *sub_flow_runs(client, run_id)]
    for run in runs:
        if run.state is not None and not run.state.is_final():
            client.set_flow_run_state(run.id, Crashed(message="process killed (fault drill)"), force=True)


def live_run_pids(client: SyncPrefectClient, run_id: UUID) -> list[int]:
    from tests.e2e._prefect import run_pid

    pid = run_pid(client.read_flow_run(run_id).infrastructure_pid)
    return [pid] if pid is not None else []


def parameters_of(run: FlowRun) -> dict[str, Any]:
    return dict(run.parameters or {})
