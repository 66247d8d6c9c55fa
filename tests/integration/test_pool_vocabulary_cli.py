"""`junkan pool vocabulary`: the words of the pool and the open jobs that the vocabulary does not know,
with exact counts, most frequent first, learned links with their evidence; a bad operator file is
refused in one line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from junkan.cli import pool as pool_cli
from junkan.db import session_scope
from junkan.db.models import JobTitleHistory
from tests.integration._pool_data import (
    DECIDED,
    NOW,
    add_in_house_job_learned_as_backend,
    add_job,
    add_member,
    pool_command,
)

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", "vocabulary-test")
    return tmp_path


def test_unknown_titles_and_skills_are_listed_with_counts(env: Path, engine: Engine) -> None:
    with session_scope(engine) as s:
        internal = add_in_house_job_learned_as_backend(s, people=2)
        add_member(s, past_job=internal, skills=["社内基盤X", "k8s"], tags=["要フォロー"])
        add_member(s, past_title="BtoBセールス", skills=["SFDC"], tags=["要フォロー"])
        add_member(s, past_title="ふしぎな係", skills=["ＳＦＤＣ"], talent_pool=False)  # not in the pool
        add_job(s, "ふしぎな係", required=["社内基盤X", "Go"], opened_at=NOW - timedelta(days=1))
    assert pool_command("vocabulary") == [
        "プール 4人・募集中の求人 1件のうち、語彙に当たらない語"
        "（件数 = 持っている人数 + 使っている求人数、多い順）",
        "職種に当たらない職名: 2",
        "3\t〇〇プロダクトの開発\t学習: ≈バックエンドエンジニア（バックエンドエンジニアと同じ人の応募 2人）",
        "1\tふしぎな係",
        "正規スキルに当たらないスキル・タグ: 2",
        "4\t社内基盤X\t学習: ≈Python（同じ人 2/3人）",
        "2\t要フォロー",
    ]


def test_words_the_matcher_links_as_general_synonyms_say_so(
    env: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither クライアント nor 顧客 is in the thesaurus, but Sudachi puts them in one group: the matcher
    links a person's クライアント to a job's 顧客, and the list says why neither is a dead end."""
    with session_scope(engine) as s:
        add_member(s, past_title="法人営業", skills=["クライアント", "ふしぎスキル"])
        add_member(s, past_title="法人営業", skills=["クライアント"])
        add_job(s, "法人営業", required=["顧客"], opened_at=NOW - timedelta(days=1))
    assert pool_command("vocabulary")[-4:] == [
        "正規スキルに当たらないスキル・タグ: 3",
        "2\tクライアント\t一般語の同義語: 顧客",
        "1\tふしぎスキル",
        "1\t顧客\t一般語の同義語: クライアント",
    ]
    monkeypatch.setenv("JUNKAN_RECONTACT__GENERAL_SYNONYMS", "false")  # the matcher links them no more
    assert pool_command("vocabulary")[-3:] == ["2\tクライアント", "1\tふしぎスキル", "1\t顧客"]


def test_a_bad_operator_file_is_refused_in_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = env / "thesaurus.csv"
    bad.write_text("正規形,別名,種別\n,SF,スキル\n", encoding="utf-8")
    monkeypatch.setenv("JUNKAN_RECONTACT__THESAURUS_PATH", str(bad))
    result = runner.invoke(pool_cli.app, ["vocabulary"])
    assert result.exit_code == 2 and result.output.strip() == "thesaurus.csv 2行目: 正規形が空です"


def test_a_title_linked_by_a_rename_shows_the_rename(env: Path, engine: Engine) -> None:
    with session_scope(engine) as s:
        add_member(s, past_title="ソリューションパートナー")
        add_member(s, past_title="ソリューションパートナー")
        renamed = add_job(s, "法人営業", opened_at=NOW - timedelta(days=1))
        s.add(JobTitleHistory(job_id=renamed.id, title="ソリューションパートナー",
                              replaced_at=DECIDED - timedelta(days=30)))
    result = runner.invoke(pool_cli.app, ["vocabulary"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:3] == [
        "職種に当たらない職名: 1",
        "2\tソリューションパートナー\t学習: ≈法人営業（求人名の変更 ソリューションパートナー→法人営業）",
    ]
