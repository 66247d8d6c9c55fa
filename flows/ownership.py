"""Who runs each of Junkan's deployments on the Prefect server: `junkan serve` or a work pool's workers.

Both ways of running use the same deployment names (flows/catalog.py), so on one server the second one to
start would take the first one's deployments over. The rule is one way per server (docs/operations.md); these
checks keep a slip from doing harm: `junkan serve` refuses deployments that belong to a work pool and never
pauses them, and `prefect deploy` (the build step in flows/steps.py) warns about the ones `junkan serve` has.
"""

from __future__ import annotations

from collections.abc import Iterable

from prefect import get_client
from prefect.client.schemas.responses import DeploymentResponse
from prefect.exceptions import ObjectNotFound


def existing(full_names: Iterable[str]) -> dict[str, DeploymentResponse]:
    """The deployments among `full_names` (`flow/deployment`) that the server has."""
    found: dict[str, DeploymentResponse] = {}
    with get_client(sync_client=True) as client:
        for name in full_names:
            try:
                found[name] = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
    return found


def in_work_pool(full_names: Iterable[str]) -> dict[str, str]:
    """name -> work pool, for the deployments a worker runs (created by `prefect deploy`)."""
    return {name: d.work_pool_name for name, d in existing(full_names).items() if d.work_pool_name}


def served(full_names: Iterable[str]) -> list[str]:
    """The deployments without a work pool: those a `junkan serve` process created (and runs, if running)."""
    return [name for name, d in existing(full_names).items() if not d.work_pool_name]


def pause_served(full_names: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Pause the schedules of the deployments that are still served; leave the work-pool ones running.

    Returns (paused, left alone: name -> work pool). Prefect's own pause-on-shutdown would pause them all,
    including those `prefect deploy` took over meanwhile, and `daily` would then silently never run.
    """
    paused: list[str] = []
    left: dict[str, str] = {}
    found = existing(full_names)
    with get_client(sync_client=True) as client:
        for name, deployment in found.items():
            if deployment.work_pool_name:
                left[name] = deployment.work_pool_name
            else:
                client.pause_deployment(deployment.id)
                paused.append(name)
    return paused, left
