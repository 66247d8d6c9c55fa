"""A job the source renamed keeps its old titles (`job_title_history`), and the matcher learns from them that
the old name is the same work (docs/pool.md "Vocabulary"). Every source renames through the same job
sync: Greenhouse and a spreadsheet's jobs sheet here."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.ats.csv_source import CsvAdapter
from junkan.ats.greenhouse import RATE_LIMIT_WINDOW_S, GreenhouseAdapter
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Job, JobTitleHistory
from junkan.ingest import ingest
from junkan.pool.runs import plan_run
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseFake, sample_data
from tests.integration._ingest_support import FixedClock
from tests.integration._pool_data import AS_OF, DECIDED, NOW, add_job, add_member, pool_settings

JST = ZoneInfo("Asia/Tokyo")
FIRST = datetime(2027, 1, 15, tzinfo=UTC)


def _history(engine: Engine) -> list[tuple[str, str, datetime]]:
    with Session(engine) as s:
        return [(ext, title, at) for ext, title, at in s.execute(
            select(Job.external_id, JobTitleHistory.title, JobTitleHistory.replaced_at)
            .join(Job, Job.id == JobTitleHistory.job_id).order_by(JobTitleHistory.id))]


def test_a_greenhouse_rename_is_recorded_once(httpserver: HTTPServer, engine: Engine) -> None:
    fake_clock = FakeClock()
    fake = GreenhouseFake(httpserver, sample_data(6, n_jobs=3), clock=fake_clock)
    client = client_for("greenhouse", fake_clock, rate_limit_window_s=RATE_LIMIT_WINDOW_S)
    adapter = GreenhouseAdapter(client, **fake.adapter_kwargs())

    ingest(engine, adapter, clock=FixedClock(FIRST))
    assert _history(engine) == []  # nothing renamed yet
    fake.resources["jobs"][1]["name"] = "バックエンドエンジニア"
    renamed_at = FIRST + timedelta(days=1)
    ingest(engine, adapter, clock=FixedClock(renamed_at))
    ingest(engine, adapter, clock=FixedClock(renamed_at + timedelta(days=1)))  # the same title again

    assert _history(engine) == [("4001", "Engineer 1", renamed_at)]
    with Session(engine) as s:
        assert s.scalar(select(Job.title).where(Job.external_id == "4001")) == "バックエンドエンジニア"


def _sheet(path: Path, title: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["求人ID", "求人名", "状態", "募集開始日"])
    writer.writerow(["J001", title, "募集中", "2027/01/10"])
    writer.writerow(["J002", "経理", "募集中", "2027/01/10"])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_jobs_sheet_rename_is_recorded_once_per_title(tmp_path: Path, engine: Engine) -> None:
    export = tmp_path / "apps.csv"
    export.write_text("応募ID,氏名,メールアドレス,応募日,求人ID,求人,選考結果\n"
                      "A-1,山田 太郎,taro@example.jp,2027/01/11,J001,ソリューションパートナー,選考中\n",
                      encoding="utf-8")
    sheet = tmp_path / "jobs.csv"

    def run(title: str, day: int) -> None:
        _sheet(sheet, title)
        adapter = CsvAdapter(export, jobs_path=sheet, timezone=JST)
        ingest(engine, adapter, clock=FixedClock(FIRST + timedelta(days=day)))

    run("ソリューションパートナー", 0)
    run("法人営業", 1)
    run("法人営業", 2)
    run("法人営業（SaaS）", 3)
    assert [(ext, title) for ext, title, _ in _history(engine)] == [
        ("J001", "ソリューションパートナー"), ("J001", "法人営業")]


@pytest.mark.parametrize(("new_title", "occupation"), [
    ("法人営業", "職種: 法人営業（旧求人名: ソリューションパートナー）"),
    ("法人営業（SaaS）", "職種: 法人営業（旧求人名: ソリューションパートナー→法人営業（SaaS））"),
])
def test_a_past_title_that_is_an_old_name_matches_the_renamed_job(engine: Engine, settings: Settings,
                                                                   new_title: str, occupation: str) -> None:
    with session_scope(engine) as s:
        # Applied to last year's posting, whose title names no family; the running requisition of the same
        # work has been renamed since.
        person = add_member(s, past_title="ソリューションパートナー", skills=["Excel"], location=None)
        renamed = add_job(s, new_title, location=None, opened_at=NOW - timedelta(days=1))
        s.add(JobTitleHistory(job_id=renamed.id, title="ソリューションパートナー",
                              replaced_at=DECIDED - timedelta(days=30)))
        stranger = add_member(s, past_title="ふしぎな係", skills=["Excel"], location=None)
    for semantic in (True, False):
        with Session(engine) as s:
            plan = plan_run(s, pool_settings(settings, threshold=0, semantic=semantic), as_of=AS_OF, now=NOW,
                            mode="shortlist")
            s.rollback()
        rows = {r["candidate_id"]: r for r in plan.rows if r["job_id"] == renamed.id}
        if not semantic:
            assert rows[person.id]["score"] == rows[stranger.id]["score"]  # nothing tells them apart
            continue
        assert rows[person.id]["why"] == f"{occupation}、前回は最終面接まで、他の候補者を優先"
        assert rows[person.id]["rank"] == 1 and "職種" not in rows[stranger.id]["why"]
        assert rows[person.id]["score"] > rows[stranger.id]["score"]


def test_a_job_renamed_to_an_in_house_name_keeps_its_family(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        # The backend requisition is now called by its team's name; people who applied under that name
        # are backend applicants.
        team = add_job(s, "Xチーム開発", status="closed", opened_at=DECIDED - timedelta(days=60))
        s.add(JobTitleHistory(job_id=team.id, title="バックエンドエンジニア",
                              replaced_at=DECIDED - timedelta(days=90)))
        person = add_member(s, past_job=team, skills=["Excel"], location=None)
        new = add_job(s, "バックエンドエンジニア", location=None, opened_at=NOW - timedelta(days=1))
    with Session(engine) as s:
        plan = plan_run(s, pool_settings(settings, threshold=0), as_of=AS_OF, now=NOW, mode="shortlist")
        s.rollback()
    [row] = [r for r in plan.rows if r["job_id"] == new.id and r["candidate_id"] == person.id]
    assert row["why"].startswith("職種: バックエンドエンジニア"
                                 "（前回: Xチーム開発、旧求人名: バックエンドエンジニア）")
