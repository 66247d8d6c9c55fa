"""Serve every deployment from this process, without a work pool (`junkan serve`): Junkan on one machine.

Production deploys deployments/prefect.yaml to a work pool instead (docs/operations.md, "Deployments"); the
rule is one or the other on a server, and `prefect deploy` is run only after `junkan serve` is stopped.
The same deployments either way (flows/catalog.py). What keeps the rule from doing harm: serve refuses to
start without a real server (served into Prefect's temporary one, the schedules would vanish with it) or over
deployments a work pool has, and on the way out pauses only the deployments it still serves; `prefect
deploy` warns about served deployments (flows/steps.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect.exceptions import TerminationSignal
from prefect.logging import get_logger
from prefect.runner import Runner
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL

from flows import catalog, ownership
from junkan.runtime import settings as run_settings
from tasks.limits import ensure_limits

log = get_logger("junkan.serve")

class ServeRefused(RuntimeError):
    """`junkan serve` cannot start; the message says why and what to do."""


def build_deployments() -> list[Any]:
    return [
        entry.load().to_deployment(
            name=entry.name,
            schedules=[Cron(entry.cron, timezone=catalog.TIMEZONE)] if entry.cron else None,
            concurrency_limit=entry.concurrency_limit,
            tags=list(entry.tags),
            enforce_parameter_schema=True,
        )
        for entry in catalog.entries()
    ]


def check_can_serve(full_names: list[str]) -> None:
    """Refuse to start without a real server, or over deployments that a work pool's workers run."""
    url = PREFECT_API_URL.value()
    if not url:
        raise ServeRefused(
            "PREFECT_API_URL is not set, so the deployments and their schedules would go to a temporary "
            "server and be lost when this process ends. Start a server (`prefect server start`) and "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api (or the address of yours)."
        )
    from prefect import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        raise ServeRefused(f"the Prefect API at {url} does not answer ({type(error).__name__}); is "
                           "`prefect server start` running, and is PREFECT_API_URL its address?")
    taken = ownership.in_work_pool(full_names)
    if taken:
        raise ServeRefused(_taken_message(taken))


def prepare_server(full_names: list[str]) -> list[str]:
    """Check that this server can be served (`check_can_serve`), then set its concurrency limits from the
    settings: the served flows take them strictly, so without them the first scheduled run would fail."""
    check_can_serve(full_names)
    limits = ensure_limits(run_settings())
    log.info("junkan serve: concurrency limits %s set from the settings", ", ".join(limits))
    return limits


def _taken_message(taken: dict[str, str]) -> str:
    pools = ", ".join(sorted(set(taken.values())))
    verb = "belongs" if len(taken) == 1 else "belong"
    return (
        f"{', '.join(taken)} {verb} to work pool {pools} (deployed with deployments/prefect.yaml), whose "
        "workers run them; junkan serve does not take them over. Keep the worker, or delete those "
        "deployments first (`prefect deployment delete NAME`) to serve them from here."
    )


def serve_all(limit: int | None = None) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    names = catalog.full_names()
    prepare_server(names)
    deployments = build_deployments()
    print(_start_message(), flush=True)
    try:
        asyncio.run(_serve(deployments, limit))
    except (KeyboardInterrupt, TerminationSignal):
        log.info("junkan serve: interrupted, shutting down")
    finally:
        paused, left = ownership.pause_served(names)
        if paused:
            log.info("junkan serve: paused %s until served again", ", ".join(paused))
        if left:
            # `prefect deploy` ran while serve did, against the rule; the warning told them to stop serve.
            log.warning("junkan serve: left %s running: they belong to a work pool now", ", ".join(left))


def _start_message() -> str:
    lines = [f"junkan serve: serving {len(catalog.entries())} deployments on {PREFECT_API_URL.value()}:"]
    for entry in catalog.entries():
        when = f"{entry.cron} ({catalog.TIMEZONE})" if entry.cron else "by hand"
        lines.append(f"  {entry.full_name:<40} {when}")
    lines.append("Stop with Ctrl-C: the schedules are then paused until `junkan serve` runs again.")
    return "\n".join(lines)


async def _serve(deployments: list[Any], limit: int | None) -> None:
    # pause_on_shutdown=False: Prefect would pause every deployment this process ever added, even one
    # `prefect deploy` gave to a work pool meanwhile; serve_all pauses only the ones still served.
    runner = Runner(limit=limit, pause_on_shutdown=False)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    await runner.start()
