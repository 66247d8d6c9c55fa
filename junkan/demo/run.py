"""Runs the demo: sample company → CP932 export → fresh SQLite → two days of `daily` → a summary.

Two business days, because credits need time: on day one the notices go out; overnight the partner's
report arrives with the candidates who registered through the link; day two syncs it into the ledger.

Both days are past, so each is replayed as if the real clock stood at that day's window opening
(`junkan.runtime.simulated_time`): the mails are sent inside the window and dated when they would have gone
out, never at the hour the demo happens to run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from junkan.config import Settings
from junkan.db import upgrade
from junkan.demo.company import CompanyStats, write_export, write_jobs_sheet
from junkan.demo.partner_report import write_partner_report
from junkan.demo.report import DEMO_RECIPIENT, mail_demo_report, redeem_demo_credit, write_demo_report
from junkan.demo.summary import summarize
from junkan.demo.visits import visit_lines, visit_pages
from junkan.mail.timing import is_business_day
from junkan.runtime import runtime, settings, simulated_time

RunFlow = Callable[[str, date | None, bool], Any]
PARTNER_HEADER = "ref_code,status,occurred_at\n"


def last_business_day(today: date) -> date:
    day = today
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def demo_days(now: datetime) -> tuple[date, date]:
    """The two business days before today: past days, so their whole sending window has passed."""
    day2 = last_business_day(now.astimezone(ZoneInfo("Asia/Tokyo")).date() - timedelta(days=1))
    return last_business_day(day2 - timedelta(days=1)), day2


def window_opening(day: date, settings: Settings) -> datetime:
    """When `day`'s sending window opened, in the business time zone."""
    return datetime.combine(day, settings.notice.window_start, tzinfo=ZoneInfo(settings.business.timezone))


def prepare_demo(workdir: Path, *, seed: int, day: date) -> tuple[str, CompanyStats]:
    """Fresh workdir, CP932 export and jobs sheet as of `day`, migrated SQLite, JUNKAN_* set.

    Returns (db url, stats).
    """
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    export = workdir / "ats-export.csv"
    stats = write_export(export, today=day, seed=seed)
    jobs_sheet = workdir / "jobs.csv"
    write_jobs_sheet(jobs_sheet, today=day, seed=seed)
    partner_report = workdir / "partner-report.csv"
    partner_report.write_text(PARTNER_HEADER, encoding="utf-8")
    db_url = f"sqlite:///{workdir / 'junkan.db'}"
    os.environ.update(
        {
            "JUNKAN_DATABASE_URL": db_url,
            "JUNKAN_ATS__KIND": "csv",
            "JUNKAN_ATS__PATH": str(export),
            "JUNKAN_ATS__JOBS_PATH": str(jobs_sheet),
            # The recruiters' shortlist workbook of each recontact run lands next to the rest of the demo.
            "JUNKAN_RECONTACT__SHORTLIST_DIR": str(workdir),
            # Pool registrations lapsing this week get a renewal mail; like every mail it links to the
            # person's own page, which the demo's visitors open (junkan/demo/visits.py).
            "JUNKAN_CONSENT__RENEWAL_ENABLED": "true",
            "JUNKAN_MAIL__BACKEND": "file",
            "JUNKAN_MAIL__OUTBOX_DIR": str(workdir / "outbox"),
            "JUNKAN_PARTNER__KIND": "csv",
            "JUNKAN_PARTNER__PATH": str(partner_report),
            # The monthly report goes to one internal address (as reports/mail/*.eml, see report.py).
            "JUNKAN_REPORT__RECIPIENTS": DEMO_RECIPIENT,
            "JUNKAN_REPORT__OUTPUT_DIR": str(workdir / "reports"),
        }
    )
    upgrade(db_url)
    return db_url, stats


def run_demo(workdir: Path, *, seed: int, run_flow: RunFlow, now: datetime | None = None) -> str:
    workdir = workdir.resolve()
    day1, day2 = demo_days(now or datetime.now(ZoneInfo("Asia/Tokyo")))
    today = (now or datetime.now(ZoneInfo("Asia/Tokyo"))).astimezone(ZoneInfo("Asia/Tokyo")).date()
    _db_url, stats = prepare_demo(workdir, seed=seed, day=day1)
    rt = runtime()
    with simulated_time(window_opening(day1, settings())):
        run_flow("daily", day1, False)
    write_partner_report(rt.engine, workdir / "partner-report.csv", seed=seed)
    with simulated_time(window_opening(day2, settings())):
        run_flow("daily", day2, False)
    # Today, on the real clock (the links in the mails were signed by it): a few people open their own
    # page from their mail and save their choices, a 総務 job opens, and re-contact runs for it.
    visits = visit_pages(rt.engine, rt.settings, workdir / "outbox")
    write_jobs_sheet(workdir / "jobs.csv", today=day1, seed=seed, later=today)
    run_flow("ingest-decisions", None, False)
    run_flow("recontact", None, False)
    redeem_demo_credit(rt.engine, rt.settings)
    # The report runs up to today, the day it is made (cut there: 「〇日時点」), like a customer's would.
    report = write_demo_report(rt.engine, rt.settings, workdir, today)
    mailed = mail_demo_report(rt.engine, rt.settings, workdir, today)
    summary = summarize(rt.engine, workdir=workdir, stats=stats, days=(day1, day2), settings=rt.settings,
                        report=report, report_mail=mailed)
    return "\n".join([summary, *visit_lines(rt.engine, rt.settings, visits)])
