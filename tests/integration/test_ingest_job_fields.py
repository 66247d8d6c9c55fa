"""What the matcher reads, brought in by every adapter (Issue 11 §1): jobs with their posting text, skills,
location and department, openings, and the candidates' skills and location — against the fakes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.ats.base import BadRecord, JobRecord, SourceFileError
from junkan.ats.csv_source import CsvAdapter
from junkan.ats.factory import AtsConfigError, build_adapter
from junkan.ats.greenhouse import RATE_LIMIT_WINDOW_S, GreenhouseAdapter
from junkan.ats.lever import RATE_LIMIT_WINDOW_S as LEVER_WINDOW_S
from junkan.ats.lever import LeverAdapter
from junkan.config import AtsSettings, Settings
from junkan.db.models import Application, Candidate, Job, Opening, Quarantine
from junkan.ingest import ingest
from junkan.pool.openings import find_new_targets
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseFake, sample_data
from tests.fakes.lever import LeverFake
from tests.fakes.lever import sample_data as lever_data
from tests.integration._ingest_support import FixedClock

JST = ZoneInfo("Asia/Tokyo")
AFTER_THE_DATA = datetime(2027, 1, 15, tzinfo=UTC)


def _jobs(engine: Engine, source: str) -> dict[str, Job]:
    with Session(engine) as s:
        return {j.external_id: j for j in s.scalars(select(Job).where(Job.source == source))}


# -- Greenhouse ----------------------------------------------------------------------------------------


def test_greenhouse_jobs_bring_post_text_skills_location_and_openings(
    httpserver: HTTPServer, engine: Engine
) -> None:
    fake_clock = FakeClock()
    fake = GreenhouseFake(httpserver, sample_data(20, n_jobs=3), clock=fake_clock)
    client = client_for("greenhouse", fake_clock, rate_limit_window_s=RATE_LIMIT_WINDOW_S)

    ingest(engine, GreenhouseAdapter(client, **fake.adapter_kwargs()), clock=FixedClock(AFTER_THE_DATA))

    jobs = _jobs(engine, "greenhouse")
    job = jobs["4001"]
    # The live job post's HTML (escaped once more by Harvest) as plain lines; the notes are not used.
    assert job.description == "Engineer 1 の募集です。\nAPI 開発"
    assert job.required_skills == ["Python", "SQL"]
    assert job.preferred_skills == ["Docker", "Kubernetes"]
    assert job.location == "東京都" and job.department == "Engineering"
    assert jobs["4000"].required_skills == ["Go", "AWS"] and jobs["4000"].status == "closed"
    with Session(engine) as s:
        openings = {o.external_id: o for o in s.scalars(select(Opening))}
    assert openings["5001"].job_id == job.id and openings["5001"].status == "open"
    assert openings["5000"].status == "closed"
    with Session(engine) as s:
        people = dict(s.execute(select(Application.external_id, Application.candidate_external_id)).all())
    # The person's id in Greenhouse: write-back and the shortlist's link reach the candidate by it.
    assert people["200000"] == "100000" and people["200006"] == people["200005"] == "100005"


def test_greenhouse_without_the_job_posts_scope_uses_the_notes(httpserver: HTTPServer) -> None:
    fake_clock = FakeClock()
    fake = GreenhouseFake(httpserver, sample_data(2, n_jobs=2), clock=fake_clock)
    httpserver.expect_oneshot_request("/v3/job_posts").respond_with_json(
        {"message": "Missing scope: harvest:job_posts:list"}, status=403)
    client = client_for("greenhouse", fake_clock, rate_limit_window_s=RATE_LIMIT_WINDOW_S)

    jobs = {j.external_id: j for j in GreenhouseAdapter(client, **fake.adapter_kwargs()).fetch_jobs()}

    assert isinstance(jobs["4001"], JobRecord) and jobs["4001"].description == "社内メモ 1"
    assert jobs["4001"].required_skills == ("Python", "SQL")


# -- Lever ---------------------------------------------------------------------------------------------


def test_lever_postings_bring_text_tags_categories_and_dates(httpserver: HTTPServer, engine: Engine) -> None:
    fake_clock = FakeClock()
    data = lever_data(12, n_postings=2)
    data.opportunities[0]["location"] = "大阪"
    fake = LeverFake(httpserver, data, clock=fake_clock)
    client = client_for("lever", fake_clock, rate_limit_window_s=LEVER_WINDOW_S)

    ingest(engine, LeverAdapter(client, api_key=fake.api_key, base_url=fake.base_url),
           clock=FixedClock(AFTER_THE_DATA))

    jobs = _jobs(engine, "lever")
    posting = data.postings[0]
    job = jobs["post-0"]
    assert job.status == "open" and job.description == "Designer 0 を募集します。\n必須要件\nFigma の実務経験"
    assert job.required_skills == ["Figma", "UIデザイン"] and job.preferred_skills is None
    assert job.location == "東京" and job.department == "Product"
    assert job.opened_at == datetime.fromtimestamp(posting["createdAt"] / 1000, UTC)
    closed = jobs["post-1"]
    assert closed.status == "closed"
    assert closed.closed_at == datetime.fromtimestamp(data.postings[1]["updatedAt"] / 1000, UTC)
    with Session(engine) as s:
        assert s.scalars(select(Opening)).all() == []  # Lever has none: the open posting is the target
        locations = set(s.scalars(select(Candidate.location)))
    assert "大阪" in locations


# -- spreadsheets --------------------------------------------------------------------------------------

APP_HEADER = ["応募ID", "氏名", "メールアドレス", "応募日", "求人ID", "求人", "選考結果", "不採用理由",
              "選考結果日", "選考段階", "タグ", "スキル", "勤務希望地", "タレントプール同意"]
APP_ROWS = [
    ["A-1", "山田 太郎", "taro@example.jp", "2026/05/01", "J001", "バックエンドエンジニア", "不採用",
     "他の候補者を優先", "2026/05/20", "最終面接", "リファラル", "Python、Go／SQL", "東京都", "はい"],
    ["A-2", "佐藤 花子", "hanako@example.jp", "2026/05/02", "J002", "データアナリスト", "不採用",
     "スキル不足", "2026/05/21", "一次面接", "", "SQL; Tableau", "", "はい"],
]
JOB_HEADER = ["求人ID", "求人名", "状態", "募集開始日", "募集終了日", "必須スキル", "歓迎スキル", "勤務地",
              "部署", "仕事内容"]


def job_rows(today: datetime) -> list[list[str]]:
    opened = (today - timedelta(days=3)).strftime("%Y/%m/%d")
    return [
        ["J001", "バックエンドエンジニア", "募集中", opened, "", "Python、Go、SQL", "AWS/Docker", "東京都",
         "開発本部", "決済基盤の API を設計・開発します。\n少人数のチームです。"],
        ["J002", "データアナリスト", "募集終了", "2026/04/01", "2026/06/30", "SQL", "", "大阪府",
         "データ戦略室", "分析基盤の運用"],
        ["J003", "SRE", "下書き", "", "", "", "", "", "", ""],
        ["", "名無しの求人", "募集中", "", "", "", "", "", "", ""],  # no 求人ID
        ["J004", "", "募集中", "", "", "", "", "", "", ""],  # no 求人名
        ["J005", "広報", "検討中", "", "", "", "", "", "", ""],  # unknown 状態
        ["J006", "法務", "公開中", "令和0年5月1日", "", "", "", "", "", ""],  # impossible era date
        ["J001", "バックエンドエンジニア（重複）", "open", "", "", "", "", "", "", ""],  # same 求人ID again
    ]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_cp932_jobs_sheet_is_ingested_and_bad_rows_are_quarantined(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    export = _write_csv(tmp_path / "apps.csv", APP_HEADER, APP_ROWS, "cp932")
    sheet = _write_csv(tmp_path / "求人一覧.csv", JOB_HEADER, job_rows(now), "cp932")

    counts = ingest(engine, CsvAdapter(export, jobs_path=sheet, timezone=JST), clock=FixedClock(now))

    jobs = _jobs(engine, "csv")
    assert set(jobs) == {"J001", "J002", "J003"}  # the rows in, less the five quarantined
    assert counts.reference_quarantined == 5
    backend = jobs["J001"]
    assert backend.status == "open" and backend.department == "開発本部" and backend.location == "東京都"
    assert backend.required_skills == ["Python", "Go", "SQL"]
    assert backend.preferred_skills == ["AWS", "Docker"]
    assert backend.description == "決済基盤の API を設計・開発します。\n少人数のチームです。"
    assert backend.opened_at == datetime(2026, 11, 17, tzinfo=JST)
    assert jobs["J002"].status == "closed" and jobs["J002"].closed_at == datetime(2026, 6, 30, tzinfo=JST)
    assert jobs["J003"].status == "draft"
    with Session(engine) as s:
        bad = sorted(s.scalars(select(Quarantine.reason).where(Quarantine.record_type == "job")))
        people = {c.email_key: c for c in s.scalars(select(Candidate))}
    assert bad == [
        "row 5: column 求人ID (job_id) is empty",
        "row 6: column 求人名 (title) is empty",
        "row 7: column 状態 (status): unknown 状態 '検討中' (use 募集中/公開中/open, "
        "募集終了/停止/クローズ/closed or 下書き/draft)",
        "row 8: column 募集開始日 (opened_at): cannot read the date '令和0年5月1日'",
        "row 9: column 求人ID (job_id): the same 求人ID as row 2",
    ]
    assert people["taro@example.jp"].skills == ["Python", "Go", "SQL"]
    taro, hanako = people["taro@example.jp"], people["hanako@example.jp"]
    assert taro.location == "東京都" and taro.tags == ["リファラル"]
    assert hanako.skills == ["SQL", "Tableau"] and hanako.location is None

    # A spreadsheet has no openings: the open job is its own target, with no opening id to export.
    with Session(engine) as s:
        targets = find_new_targets(s, settings, now).targets
    assert [(t.job_external_id, t.opening_external_id) for t in targets] == [("J001", None)]
    assert targets[0].required_skills == ("Python", "Go", "SQL")


def test_xlsx_jobs_sheet_with_a_title_row_reads_like_the_csv(tmp_path: Path) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    export = _write_csv(tmp_path / "apps.csv", APP_HEADER, APP_ROWS, "utf-8-sig")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["求人一覧 2026年11月"])  # a title line above the header, as exports have
    sheet.append(JOB_HEADER)
    for row in job_rows(now)[:2]:
        sheet.append(row)
    sheet.append(["J010", "SRE", "停止", datetime(2026, 9, 1), 46022, "Kubernetes", "", "福岡", "", ""])
    workbook.save(tmp_path / "jobs.xlsx")

    jobs = list(CsvAdapter(export, jobs_path=tmp_path / "jobs.xlsx", timezone=JST).fetch_jobs())

    assert all(isinstance(j, JobRecord) for j in jobs), [j for j in jobs if isinstance(j, BadRecord)]
    by_id = {j.external_id: j for j in jobs if isinstance(j, JobRecord)}
    assert set(by_id) == {"J001", "J002", "J010"}
    assert by_id["J001"].required_skills == ("Python", "Go", "SQL")
    assert by_id["J010"].status == "closed" and by_id["J010"].location == "福岡"
    assert by_id["J010"].opened_at == datetime(2026, 9, 1, tzinfo=JST)
    assert by_id["J010"].closed_at == datetime(2025, 12, 31, tzinfo=JST)  # an Excel serial


def test_a_jobs_sheet_without_its_required_columns_is_refused_before_anything_is_stored(
    tmp_path: Path, engine: Engine
) -> None:
    export = _write_csv(tmp_path / "apps.csv", APP_HEADER, APP_ROWS, "cp932")
    sheet = _write_csv(tmp_path / "jobs.csv", ["求人ID", "状態"], [["J001", "募集中"]], "cp932")

    with pytest.raises(SourceFileError) as caught:
        ingest(engine, CsvAdapter(export, jobs_path=sheet, timezone=JST), clock=FixedClock(AFTER_THE_DATA))

    assert str(caught.value) == (f"{sheet}: required column(s) missing in the jobs sheet "
                                 "(title: 求人名 / 求人タイトル / 募集職種)")
    with Session(engine) as s:
        assert s.scalars(select(Candidate)).all() == []


def test_a_jobs_path_that_does_not_exist_is_a_configuration_error(tmp_path: Path) -> None:
    export = _write_csv(tmp_path / "apps.csv", APP_HEADER, APP_ROWS, "cp932")
    settings = AtsSettings(kind="csv", path=export, jobs_path=tmp_path / "求人一覧.xlsx")

    with pytest.raises(AtsConfigError, match="JUNKAN_ATS__JOBS_PATH points to a file that does not exist"):
        build_adapter(settings)
