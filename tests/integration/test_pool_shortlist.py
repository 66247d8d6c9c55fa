"""The Japanese shortlist (docs/pool.md "Shortlist"): the Excel workbook and CSV a recruiter opens, with
their exact columns, one sheet per job, links into the ATS, and names only when asked for."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from junkan.cli import pool as pool_cli
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application
from junkan.pool.export import SUMMARY_SHEET, match_rows
from junkan.pool.recontact import match_and_store
from junkan.pool.refs import candidate_ref
from tests.integration._pool_data import (
    AS_OF,
    CLOCK,
    DECIDED,
    NOW,
    add_application,
    add_job,
    add_member,
    add_opening,
)

runner = CliRunner()
SECRET = "shortlist-secret"
HEADERS = ["求人ID", "求人名", "順位", "スコア（0–100）", "一致度（強い・良い・部分）", "一致スキル",
           "不足スキル", "職種", "前回の応募求人", "前回の選考段階", "前回の不採用理由", "前回の選考結果日",
           "前回の応募ID", "候補者ID", "募集枠ID", "一致の理由", "ATSで開く"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Settings:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", SECRET)
    monkeypatch.setenv("JUNKAN_ATS__KIND", "greenhouse")
    monkeypatch.setenv("JUNKAN_ATS__APP_URL", "https://gh.example.jp/")
    monkeypatch.setenv("JUNKAN_RECONTACT__SHORTLIST_DIR", str(tmp_path / "shortlists"))
    return Settings(_env_file=None)  # type: ignore[call-arg]


def _data(engine: Engine) -> dict[str, object]:
    with session_scope(engine) as s:
        sre = add_job(s, "SRE", source="greenhouse", external_id="4012", required=["Kubernetes", "AWS"],
                      opened_at=NOW - timedelta(days=20))
        sre.department = "インフラ"
        opening = add_opening(s, sre, opened_at=NOW - timedelta(days=2), external_id="OP-77")
        add_job(s, "データアナリスト", external_id="求人-9", required=["SQL"],
                opened_at=NOW - timedelta(days=1))
        past = add_job(s, "インフラエンジニア", source="greenhouse", external_id="3001", status="closed",
                       opened_at=DECIDED - timedelta(days=60))
        gh_person = add_member(s, skills=["Kubernetes"], past_job=past, name="佐藤 花子")
        s.execute(update(Application).where(Application.candidate_id == gh_person.id)
                  .values(candidate_external_id="777001", external_id="880001"))
        sheet_person = add_member(s, skills=["SQL"], past_title="データアナリスト", name="鈴木 一郎")
    return {"gh": gh_person.id, "sheet": sheet_person.id, "opening": opening.external_id}


def _cells(path: Path) -> list[object]:
    book = openpyxl.load_workbook(path)
    return [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_the_workbook_has_a_summary_and_one_sheet_per_job_with_the_japanese_columns(
    engine: Engine, env: Settings, tmp_path: Path
) -> None:
    d = _data(engine)
    match_and_store(engine, env, CLOCK)
    out = tmp_path / "shortlist.xlsx"

    result = runner.invoke(pool_cli.app, ["matches", "--format", "xlsx", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [SUMMARY_SHEET, "4012-OP-77", "求人-9"]
    sre = book["4012-OP-77"]
    rows = list(sre.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["求人ID"] == "4012" and row["求人名"] == "SRE" and row["募集枠ID"] == d["opening"]
    score = row["スコア（0–100）"]
    assert row["順位"] == 1 and isinstance(score, float) and 0 < score <= 100
    assert row["一致度（強い・良い・部分）"] in ("強い", "良い", "部分")
    assert row["一致スキル"] == "Kubernetes" and row["不足スキル"] == "AWS"
    assert row["職種"] == "インフラエンジニア"
    assert row["前回の応募求人"] == "インフラエンジニア" and row["前回の選考段階"] == "最終面接"
    assert row["前回の不採用理由"] == "他の候補者を優先"
    assert row["前回の選考結果日"] == datetime(2026, 4, 10)  # a date cell, the company's day
    assert sre.cell(row=2, column=HEADERS.index("前回の選考結果日") + 1).is_date
    assert row["前回の応募ID"] == "880001"
    assert row["候補者ID"] == candidate_ref(d["gh"], env.links)  # type: ignore[arg-type]
    # Match reasons and the earlier outcome each in their own labelled column, not mixed.
    assert row["一致の理由"] == ("必須スキル 1/2 一致（Kubernetes）、不足：AWS、職種: インフラエンジニア、"
                                "勤務地が合う（東京都）")
    assert "他の候補者を優先" not in row["一致の理由"] and "前回" not in row["一致の理由"]
    link = sre.cell(row=2, column=HEADERS.index("ATSで開く") + 1)
    assert link.value == "ATSで開く"
    assert link.hyperlink.target == "https://gh.example.jp/people/777001?application_id=880001"
    sheet_row = dict(zip(HEADERS, list(book["求人-9"].iter_rows(values_only=True))[1], strict=True))
    assert sheet_row["募集枠ID"] is None and sheet_row["ATSで開く"] is None  # a spreadsheet: no ATS to open
    summary = list(book[SUMMARY_SHEET].iter_rows(values_only=True))
    assert summary[0][:5] == ("求人ID", "求人名", "募集枠ID", "職種", "候補者数")
    assert summary[1][:5] == ("4012", "SRE", "OP-77", "インフラエンジニア", 1)
    assert "佐藤 花子" not in _cells(out) and "鈴木 一郎" not in _cells(out)


def test_names_only_with_the_flag_and_never_in_the_flows_own_file(
    engine: Engine, env: Settings, tmp_path: Path
) -> None:
    _data(engine)
    run = match_and_store(engine, env, CLOCK)
    named = tmp_path / "named.xlsx"

    result = runner.invoke(pool_cli.app, ["matches", "--format", "xlsx", "--with-names", "--out", str(named)])

    assert run.csv_path is not None and run.csv_path.endswith(f"recontact-{AS_OF}-run{run.run_id}.xlsx")
    own = Path(run.csv_path)
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    assert openpyxl.load_workbook(own)["4012-OP-77"]["A1"].value == "求人ID"
    assert not {"佐藤 花子", "鈴木 一郎"} & set(_cells(own))
    assert result.exit_code == 0, result.output
    assert {"佐藤 花子", "鈴木 一郎", "氏名"} <= set(_cells(named))
    refused = runner.invoke(pool_cli.app, ["matches", "--format", "json", "--with-names"])
    assert refused.exit_code == 2


def test_the_csv_has_the_same_japanese_columns_and_no_bom_on_a_terminal(
    engine: Engine, env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _data(engine)
    match_and_store(engine, env, CLOCK)
    piped = runner.invoke(pool_cli.app, ["matches"])
    monkeypatch.setattr(pool_cli, "stdout_is_terminal", lambda: True)
    shown = runner.invoke(pool_cli.app, ["matches"])
    workbook_to_terminal = runner.invoke(pool_cli.app, ["matches", "--format", "xlsx"])

    assert piped.stdout_bytes.startswith("\ufeff".encode())  # for Excel, when redirected to a file
    assert shown.exit_code == 0 and not shown.stdout_bytes.startswith(b"\xef\xbb\xbf")
    header = shown.stdout_bytes.decode("utf-8").splitlines()[0].split(",")
    assert header == HEADERS
    assert workbook_to_terminal.exit_code == 2 and "--out" in workbook_to_terminal.output


def test_the_reason_never_calls_a_stage_reached_only_earlier_the_last_one(
    engine: Engine, env: Settings
) -> None:
    """前回の選考段階 is the last application's stage; the reason (also the ATS note's) names the furthest
    stage, as 前回 only when the last application reached it."""
    with session_scope(engine) as s:
        add_job(s, "データアナリスト", required=["SQL"], opened_at=NOW - timedelta(days=1))
        person = add_member(s, skills=["SQL"], past_title="データアナリスト",
                            decided_at=DECIDED - timedelta(days=90))
        later = add_job(s, "BIアナリスト", status="closed", opened_at=DECIDED - timedelta(days=60))
        add_application(s, person, later, decided_at=DECIDED, stage="書類選考", category="other_candidate")
    run = match_and_store(engine, env, CLOCK)

    with session_scope(engine) as s:
        (row,) = match_rows(s, env, run.run_id, extra=True)
    assert row["previous_job"] == "BIアナリスト" and row["previous_stage"] == "書類選考"
    assert row["why"].endswith("以前の応募で最終面接まで、他の候補者を優先") and "前回は" not in row["why"]
    assert "以前" not in row["match_reasons"]  # the shortlist's columns say the stage instead


def test_pool_list_starts_with_a_header_line(engine: Engine, env: Settings) -> None:
    _data(engine)
    listed = runner.invoke(pool_cli.app, ["list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == "候補者ID\tプール理由\t潜在スコア\tタグ"
    assert len(listed.stdout.splitlines()) == 3


def test_a_greenhouse_person_without_a_known_id_gets_no_link(engine: Engine, env: Settings) -> None:
    from junkan.pool.export import person_url

    assert person_url(env, "greenhouse", "880001", None) is None
    assert person_url(env, "csv", "A-1", "x") is None
    lever = env.model_copy(update={"ats": env.ats.model_copy(update={"kind": "lever", "app_url": None})})
    assert person_url(lever, "lever", "opp-1", None) == "https://hire.lever.co/candidates/opp-1"
