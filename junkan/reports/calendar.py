"""The follow-up SLA calendar: for each decision day of a period, the instant its notice is due by.

SQL cannot evaluate business days (weekends, Japanese holidays, company closing days) portably, so the
deadlines are computed here with junkan.mail.timing's calendar and handed to the KPI queries as a small
temporary table, one row per local day: [day_start, day_end) → deadline, and `stale_after`, from which a
decision first ingested had already passed `notice.max_age_days` (no notice by policy).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, MetaData, Table, delete, insert, text

from junkan.config import Settings
from junkan.db.types import UtcDateTime
from junkan.mail.timing import add_business_days
from junkan.reports.periods import Period, business_timezone

TABLE_NAME = "report_sla_calendar"

sla_calendar = Table(
    TABLE_NAME,
    MetaData(),
    Column("day_start", UtcDateTime(), primary_key=True),
    Column("day_end", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("stale_after", UtcDateTime(), nullable=False),
    prefixes=["TEMPORARY"],
)


def sla_rows(period: Period, settings: Settings) -> list[dict[str, datetime]]:
    """One row per local day of the period. The deadline is local midnight after the N-th business day
    following the decision day: a notice accepted at 23:59 that day is on time, at 00:00 it is late."""
    tz = ZoneInfo(business_timezone(settings))
    n = settings.report.follow_up_sla_business_days
    closed = settings.notice.extra_closed_days
    rows = []
    day = period.start
    while day <= period.end:
        start = datetime.combine(day, datetime.min.time(), tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
        last = add_business_days(day, n, extra_closed_days=closed)
        deadline = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
        rows.append({"day_start": start, "day_end": end, "deadline": deadline,
                     "stale_after": end + timedelta(days=settings.notice.max_age_days)})
        day += timedelta(days=1)
    return rows


def prepare_sla_calendar(conn: Connection, period: Period, settings: Settings) -> None:
    """(Re)fill the connection's temporary calendar table for `period`."""
    sla_calendar.create(conn, checkfirst=True)
    conn.execute(delete(sla_calendar))
    conn.execute(insert(sla_calendar), sla_rows(period, settings))
    if conn.dialect.name == "postgresql":
        # Temporary tables are never auto-analysed; without statistics the planner guesses badly.
        conn.execute(text(f"ANALYZE {TABLE_NAME}"))
