"""Serve every deployment from this process, without a work pool (`junkan serve`).

The same deployments as deployments/prefect.yaml: `daily` on its schedule, each sub-flow on demand, and
the flows outside `daily` (registry.SCHEDULED) on their own schedules.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.schedules import Cron

from flows import registry
from flows.daily import daily

DAILY_CRON = "0 9 * * *"
TIMEZONE = "Asia/Tokyo"


def build_deployments() -> list[Any]:
    deployments = [
        daily.to_deployment(
            name="daily",
            schedules=[Cron(DAILY_CRON, timezone=TIMEZONE)],
            concurrency_limit=1,
            tags=["junkan", "scheduled"],
            description="The whole daily job, 09:00 Asia/Tokyo.",
        )
    ]
    for name in registry.FLOWS:
        deployments.append(
            registry.load(name).to_deployment(
                name=name,
                concurrency_limit=1,
                tags=["junkan", "manual"],
                description=f"Run {name} by hand (no schedule).",
            )
        )
    for name, (_, cron) in registry.SCHEDULED.items():
        deployments.append(
            registry.load(name).to_deployment(
                name=name,
                schedules=[Cron(cron, timezone=registry.TIMEZONE)],
                concurrency_limit=1,
                tags=["junkan", "scheduled"],
                description=f"{name} on its own schedule ({cron}, {registry.TIMEZONE}); also by hand.",
            )
        )
    return deployments


def serve_all(limit: int | None = None) -> None:
    serve(*build_deployments(), limit=limit)
