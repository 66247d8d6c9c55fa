"""The flows Junkan runs, in the order `daily` runs them (DESIGN.md §2).

Entries are import paths, so listing flows (CLI help, deployments) does not import every module.
"""

from __future__ import annotations

import importlib
from typing import Any

#: name -> "module:function". `daily` runs them top to bottom; each reads what the previous committed.
FLOWS: dict[str, str] = {
    "ingest-decisions": "flows.ingest_decisions:ingest_decisions",
    "sync-email-events": "flows.sync_email_events:sync_email_events",
    "send-rejections": "flows.send_rejections:send_rejections",
    "sync-partner-stats": "flows.sync_partner_stats:sync_partner_stats",
    "recontact": "flows.recontact:recontact",
    "retention": "flows.retention:retention",
}

#: Flows outside `daily`'s sequence, each with its own schedule: name -> ("module:function", cron).
#: The cron is in TIMEZONE; `junkan serve` and deployments/prefect.yaml deploy them scheduled.
SCHEDULED: dict[str, tuple[str, str]] = {
    # The previous month's report, on the 1st.
    "roi-report": ("flows.roi_report:roi_report", "0 9 1 * *"),
}
TIMEZONE = "Asia/Tokyo"

#: The parent flow, which runs FLOWS in order (flows/daily.py).
DAILY = "flows.daily:daily"


def load(name: str) -> Any:
    """The Prefect flow object registered under `name`."""
    try:
        target = DAILY if name == "daily" else FLOWS[name] if name in FLOWS else SCHEDULED[name][0]
    except KeyError:
        known = ", ".join([*FLOWS, "daily", *SCHEDULED])
        raise KeyError(f"unknown flow {name!r}; known flows: {known}") from None
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)
