"""Runs the demo: sample company → CP932 export → fresh SQLite → `daily` → a short summary."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from junkan.db import make_engine, upgrade
from junkan.demo.company import write_export
from junkan.demo.summary import summarize
from junkan.mail.timing import is_business_day

RunFlow = Callable[[str, date | None, bool], Any]


def last_business_day(today: date) -> date:
    day = today
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def run_demo(workdir: Path, *, seed: int, run_flow: RunFlow) -> str:
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    today = last_business_day(datetime.now(ZoneInfo("Asia/Tokyo")).date())
    export = workdir / "ats-export.csv"
    stats = write_export(export, today=today, seed=seed)
    db_url = f"sqlite:///{workdir / 'junkan.db'}"
    os.environ.update({
        "JUNKAN_DATABASE_URL": db_url,
        "JUNKAN_ATS__KIND": "csv",
        "JUNKAN_ATS__PATH": str(export),
        "JUNKAN_MAIL__BACKEND": "file",
        "JUNKAN_MAIL__OUTBOX_DIR": str(workdir / "outbox"),
    })
    upgrade(db_url)
    run_flow("daily", today, False)
    return summarize(make_engine(db_url), workdir=workdir, stats=stats, day=today)
