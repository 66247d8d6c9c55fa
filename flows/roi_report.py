"""`roi-report`: the KPI and ROI report for a period (the previous month by default).

Not part of `daily`: it has its own monthly deployment (the 1st, 09:00 Asia/Tokyo) and can be run by hand
with a typed period in the Prefect UI.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow

from junkan.config import get_settings
from junkan.db.types import utcnow
from junkan.reports.periods import Period, previous_month
from tasks.report import build, publish, write


def default_period(as_of: date | None, timezone: str) -> Period:
    today = as_of or utcnow().astimezone(ZoneInfo(timezone)).date()
    return previous_month(today)


@flow(name="roi-report", log_prints=False)
def roi_report(
    date_from: date | None = None,
    date_to: date | None = None,
    as_of: date | None = None,
    lang: str = "ja",
    recompute: bool = False,
) -> dict[str, Any]:
    """`date_from`/`date_to` (local, inclusive) choose the period; without them, the month before `as_of`
    (today by default)."""
    if (date_from is None) != (date_to is None):
        raise ValueError("give both date_from and date_to, or neither (previous month)")
    period = (Period(date_from, date_to) if date_from and date_to
              else default_period(as_of, get_settings().notice.timezone))
    report = build(period.start, period.end, recompute)
    files = write(report, lang)
    artifacts = publish(report, lang)
    k = report.kpis
    return {
        "period": period.label,
        "computed": report.computed_now,
        "files": files,
        "artifacts": artifacts["tables"],
        **{n: k[n]["value"] for n in ("applications", "hires", "rejections", "follow_up_rate")},
    }
