"""Every flow Junkan has and its deployment, in one place (issue 14 §1, issue 20 §4).

`junkan serve` builds its deployments from here (flows/serve.py), deployments/prefect.yaml must say the same
(tests/unit/test_deployments.py), `junkan flows` / `junkan run` find flows here, and `prefect deploy`'s build
step checks the server against it (flows/steps.py). A deployment's description is its flow's own
`@flow(description=…)`, which `prefect deploy` and `serve` both fall back to: one text, shown the same
either way. Targets are import paths, so listing the flows (CLI help) does not import Prefect.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

WORK_POOL = "junkan"
WORK_QUEUE = "default"
TIMEZONE = "Asia/Tokyo"
SCHEDULED_TAGS = ("junkan", "scheduled")
MANUAL_TAGS = ("junkan", "manual")


@dataclass(frozen=True, slots=True)
class Entry:
    """One flow and its deployment. The deployment's name is its flow's name, so the server knows it as
    `NAME/NAME`."""

    name: str
    #: "module:function"
    target: str
    #: In TIMEZONE; None: manual runs only.
    cron: str | None = None
    tags: tuple[str, ...] = MANUAL_TAGS
    #: Whether the flow takes `dry_run` (`junkan run --dry-run` passes it only then).
    takes_dry_run: bool = False
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
        module, attr = self.target.split(":")
        return getattr(importlib.import_module(module), attr)


#: The parent flow, at 09:00 every day.
DAILY = Entry("daily", "flows.daily:daily", "0 9 * * *", SCHEDULED_TAGS, takes_dry_run=True)

#: The flows `daily` runs, in its order (flows/daily.py calls them one by one; each reads what the previous
#: one committed), each deployed again for manual runs.
IN_DAILY = (
    Entry("ingest-decisions", "flows.ingest_decisions:ingest_decisions"),
    Entry("sync-email-events", "flows.sync_email_events:sync_email_events"),
    Entry("send-rejections", "flows.send_rejections:send_rejections", takes_dry_run=True),
    Entry("sync-partner-stats", "flows.sync_partner_stats:sync_partner_stats"),
    Entry("recontact", "flows.recontact:recontact", takes_dry_run=True),
    Entry("retention", "flows.retention:retention", takes_dry_run=True),
)

#: Flows outside `daily`, each on its own schedule; also by hand.
SCHEDULED = (
    # The previous month's report, on the 1st.
    Entry("roi-report", "flows.roi_report:roi_report", "0 9 1 * *", SCHEDULED_TAGS),
)


def entries() -> list[Entry]:
    """The deployments: `daily` first, then every flow it runs (manual), then the flows with their own
    schedule."""
    return [DAILY, *IN_DAILY, *SCHEDULED]


def flow_names() -> list[str]:
    """The flows `junkan run` accepts: those of `daily` in its order, `daily`, then the others."""
    return [*(e.name for e in IN_DAILY), DAILY.name, *(e.name for e in SCHEDULED)]


def find(name: str) -> Entry:
    """The entry of flow `name`; KeyError naming the known flows otherwise."""
    for entry in entries():
        if entry.name == name:
            return entry
    raise KeyError(f"unknown flow {name!r}; known flows: {', '.join(flow_names())}")


def full_names() -> list[str]:
    return [e.full_name for e in entries()]
