"""The jobs sheet quarantines a row it cannot take as it is, with the reason, and stores the others.

Closing before opening, an opening in 9999, an id that differs from another only by case or by an
invisible character, and a title longer than the column are each one quarantined row, never a silent
cut or a second job that is really the first (both dialects).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.ats.csv_source import CsvAdapter
from junkan.db.models import Job, Quarantine
from junkan.ingest import ingest
from tests.integration._ingest_support import FixedClock

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
APPS = [["応募ID", "氏名", "メールアドレス", "選考結果", "応募日"],
        ["A-1", "山田 太郎", "taro@example.jp", "選考中", "2026/11/01"]]
HEADER = ["求人ID", "求人名", "状態", "募集開始日", "募集終了日"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _ingest(tmp_path: Path, engine: Engine, jobs: list[list[str]]) -> tuple[set[str], list[str]]:
    export = _write(tmp_path / "apps.csv", APPS)
    sheet = _write(tmp_path / "jobs.csv", [HEADER, *jobs])
    ingest(engine, CsvAdapter(export, jobs_path=sheet, timezone=JST), clock=FixedClock(NOW))
    with Session(engine) as s:
        stored = set(s.scalars(select(Job.external_id).where(Job.source == "csv")))
        reasons = sorted(s.scalars(select(Quarantine.reason).where(Quarantine.record_type == "job")))
    return stored, reasons


@pytest.mark.parametrize(("jobs", "expected_stored", "expected_reasons"), [
    pytest.param(
        [["J100", "経理", "募集中", "2026/10/01", ""],
         ["J101", "人事", "募集中", "2026/10/01", "2026/09/30"],
         ["J102", "法務", "募集中", "9999/12/31", ""]],
        {"J100"},
        ["implausible date in field opened_at: in the future (later than the run's clock plus 1830 days)",
         "job field closed_at is before opened_at: the closing date precedes the opening date"],
        id="closing-before-opening-and-an-opening-in-9999",
    ),
    pytest.param(
        [["J107", "営業", "募集中", "", ""],
         ["j107", "営業（重複）", "募集中", "", ""],
         ["J108", "広報", "募集中", "", ""],
         ["J108\u200b", "広報（重複）", "募集中", "", ""]],
        {"J107", "J108"},
        ["row 3: column 求人ID (job_id): the same 求人ID as row 2 (they differ only in upper/lower case)",
         "row 5: column 求人ID (job_id): contains an invisible character (U+200B); remove it"],
        id="ids-differing-only-by-case-or-an-invisible-character-are-not-two-jobs",
    ),
])
def test_a_bad_job_row_is_quarantined_with_its_reason_and_the_others_are_stored(
    tmp_path: Path, engine: Engine, jobs: list[list[str]], expected_stored: set[str],
    expected_reasons: list[str],
) -> None:
    stored, reasons = _ingest(tmp_path, engine, jobs)

    assert stored == expected_stored
    assert reasons == expected_reasons


def test_a_10000_character_title_is_quarantined_not_cut(tmp_path: Path, engine: Engine) -> None:
    stored, reasons = _ingest(tmp_path, engine, [
        ["J200", "タ" * 10_000, "募集中", "", ""],
        ["J201", "タ" * 300, "募集中", "", ""],
    ])

    assert stored == {"J201"}
    assert reasons == ["job field title is longer than 300 characters (10,000); shorten it in the source"]
    with Session(engine) as s:
        assert s.scalars(select(Job.title).where(Job.external_id == "J201")).one() == "タ" * 300
