"""The demo company's day, set up as an operator would: the settings a worker runs `daily` with, the
databases it writes, and what the reports library computes from them afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, make_url, select

from junkan.config import Settings
from junkan.db import session_scope, upgrade
from junkan.db.models import Application, Message
from junkan.demo.company import CompanyStats, write_export, write_jobs_sheet
from junkan.demo.run import demo_days
from junkan.reports.compute import compute_kpis
from junkan.reports.periods import Period
from tests.db_support import fresh_postgresql_database
from tests.fakes.sendgrid import SendGridFake
from tests.mail_support import LIVE_HASH_KEY

#: A smaller company than `make demo`'s 2,000 applications, so one run takes seconds: about 45 of its
#: decisions fall in the last month and are due a notice on the day the run is for.
N_APPLICATIONS = 500
N_HIRES = 25
SEED = 11
SENDGRID_KEY = "SG.e2e-key"
#: Sender settings that are not the shipped samples, as a live send requires (docs/operations.md).
SENDER_ENV = {
    "JUNKAN_SENDER__COMPANY_NAME": "株式会社循環テスト",
    "JUNKAN_SENDER__POSTAL_ADDRESS": "〒150-0002 東京都渋谷区渋谷2-24-12",
    "JUNKAN_SENDER__CONTACT_EMAIL": "privacy@junkan.example.jp",
    "JUNKAN_MAIL__FROM_EMAIL": "recruit@junkan.example.jp",
    "JUNKAN_LINKS__PUBLIC_BASE_URL": "https://junkan.example.jp",
}


@dataclass(frozen=True)
class DemoCompany:
    export: Path
    jobs_sheet: Path
    stats: CompanyStats
    #: The day `daily` runs for: a past business day, so its whole sending window is open to the run.
    day: date


def demo_company(workdir: Path) -> DemoCompany:
    workdir.mkdir(parents=True, exist_ok=True)
    day, _ = demo_days(datetime.now(ZoneInfo("Asia/Tokyo")))
    export, jobs_sheet = workdir / "ats-export.csv", workdir / "jobs.csv"
    stats = write_export(export, today=day, seed=SEED, n_applications=N_APPLICATIONS, n_hires=N_HIRES)
    write_jobs_sheet(jobs_sheet, today=day, seed=SEED)
    return DemoCompany(export, jobs_sheet, stats, day)


def base_env(database_url: str, workdir: Path, sendgrid: SendGridFake) -> dict[str, str]:
    """Settings shared by every scenario: the database, SendGrid (the local fake), real-looking sender
    settings, where files land."""
    return {
        "JUNKAN_DATABASE_URL": database_url,
        "JUNKAN_MAIL__BACKEND": "sendgrid",
        "JUNKAN_MAIL__SENDGRID_API_KEY": SENDGRID_KEY,
        "JUNKAN_MAIL__SENDGRID_HOST": sendgrid.url,
        "JUNKAN_MAIL__WORKERS": "4",
        "JUNKAN_MAIL__OUTBOX_DIR": str(workdir / "outbox"),
        "JUNKAN_LINKS__SECRET": secrets.token_urlsafe(32),
        # A live send refuses the shipped demo hash key (docs/privacy.md): the key of a real deployment.
        "JUNKAN_RETENTION__HASH_KEY": LIVE_HASH_KEY,
        "JUNKAN_RECONTACT__SHORTLIST_DIR": str(workdir / "shortlists"),
        "JUNKAN_REPORT__OUTPUT_DIR": str(workdir / "reports"),
        # The shortest lease Prefect takes: a killed run holds up the next one for a minute, not five.
        "JUNKAN_LIMITS__SEND_LEASE_S": "60",
        **SENDER_ENV,
    }


def csv_ats_env(company: DemoCompany, workdir: Path) -> dict[str, str]:
    """The demo's own sources: the CSV export and an empty partner report (as on the demo's first day)."""
    report = workdir / "partner-report.csv"
    report.write_text("ref_code,status,occurred_at\n", encoding="utf-8")
    return {
        "JUNKAN_ATS__KIND": "csv",
        "JUNKAN_ATS__PATH": str(company.export),
        "JUNKAN_ATS__JOBS_PATH": str(company.jobs_sheet),
        "JUNKAN_PARTNER__KIND": "csv",
        "JUNKAN_PARTNER__PATH": str(report),
    }


@contextmanager
def scratch_database(database_url: str, workdir: Path, name: str) -> Iterator[str]:
    """A second, migrated database next to the test database (same dialect), dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        scratch = f"sqlite:///{workdir / (name + '.db')}"
        upgrade(scratch)
        yield scratch
        return
    with fresh_postgresql_database(database_url, f"{url.database}_{name}") as scratch:
        yield scratch


def report_period(day: date) -> Period:
    """Every decision a notice went out for (the notice window is 30 days) and today's partner sync."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    return Period(day - timedelta(days=60), today)


def kpis(engine: Engine, period: Period) -> dict[str, Any]:
    """Every KPI of the period as the report shows it: value, the inputs it was computed from, and the
    reason when it has no value."""
    settings = Settings(database_url=str(engine.url), _env_file=None)  # type: ignore[call-arg]
    with engine.begin() as conn:
        figures, _ = compute_kpis(conn, period, settings)
    return {name: (f["value"], f["inputs"], f["apart"], f["missing"]) for name, f in figures.items()}


def registered_every_third(engine: Engine) -> list[dict[str, str]]:
    """What the partner reports: the recipients of every third application's accepted notice (by ATS
    id, so a fault-free run and a drilled run agree on who) registered a second after the hand-over."""
    query = (select(Message.ref_code, Message.accepted_at, Application.external_id)
             .join(Application, Application.id == Message.application_id)
             .where(Message.ref_code.is_not(None), Message.accepted_at.is_not(None),
                    Message.state == "accepted"))
    with session_scope(engine) as session:
        rows = session.execute(query).all()
    return [
        {"ref_code": code, "status": "registered",
         "occurred_at": (accepted + timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for code, accepted, external_id in rows if int(external_id) % 3 == 0
    ]
