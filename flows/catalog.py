"""Every deployment Junkan has, in one place (issue 14 §1).

`junkan serve` builds its deployments from here (flows/serve.py), deployments/prefect.yaml must say the same
(tests/unit/test_deployments.py), and both ways of running check the server against it before they touch a
deployment (flows/ownership.py). A flow added to flows/registry.py gets a manual deployment here by itself;
prefect.yaml needs one entry for it. Each deployment's description is its flow's own `@flow(description=…)`,
which `prefect deploy` and `serve` both fall back to: one text, shown the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows import registry

WORK_POOL = "junkan"
WORK_QUEUE = "default"
TIMEZONE = registry.TIMEZONE
DAILY_CRON = "0 9 * * *"
SCHEDULED_TAGS = ("junkan", "scheduled")
MANUAL_TAGS = ("junkan", "manual")


@dataclass(frozen=True, slots=True)
class Entry:
    """One deployment. Its name is its flow's name, so the server knows it as `NAME/NAME`."""

    name: str
    #: "module:function"
    target: str
    #: In TIMEZONE; None: manual runs only.
    cron: str | None
    tags: tuple[str, ...]
    #: One run at a time: a second run waits until the first ends.
    concurrency_limit: int = 1

    @property
    def entrypoint(self) -> str:
        """As prefect.yaml writes it: `flows/daily.py:daily`."""
        module, func = self.target.split(":")
        return f"{module.replace('.', '/')}.py:{func}"

    @property
    def full_name(self) -> str:
        """`flow/deployment`, as the API and `prefect deployment` commands name it."""
        return f"{self.name}/{self.name}"

    def load(self) -> Any:
        """The Prefect flow object."""
        return registry.load(self.name)


def entries() -> list[Entry]:
    """`daily` first, then every flow it runs (manual), then the flows with their own schedule."""
    out = [Entry("daily", registry.DAILY, DAILY_CRON, SCHEDULED_TAGS)]
    out += [Entry(name, target, None, MANUAL_TAGS) for name, target in registry.FLOWS.items()]
    out += [Entry(name, target, cron, SCHEDULED_TAGS) for name, (target, cron) in registry.SCHEDULED.items()]
    return out


def full_names() -> list[str]:
    return [e.full_name for e in entries()]
