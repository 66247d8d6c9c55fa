"""`junkan pool evaluate`: the back-test on history — each pooled person who re-applied to a job opened
after their rejection, ranked as of the day it opened, with and without the semantic parts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from junkan.cli import pool as pool_cli
from junkan.db import session_scope
from tests.integration._pool_data import NOW, add_application, add_job, add_member, pool_command

runner = CliRunner()


@pytest.fixture
def history(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine, tmp_path: Path) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", "evaluate-test")
    with session_scope(engine) as s:
        sales = add_job(s, "法人営業", required=["Salesforce", "顧客折衝"], location="大阪府",
                        opened_at=NOW - timedelta(days=20))
        infra = add_job(s, "インフラエンジニア", required=["Kubernetes", "AWS"], location="東京都",
                        opened_at=NOW - timedelta(days=10))
        # Six false friends per job: they share the title's characters, not the work.
        for _ in range(6):
            add_member(s, past_title="営業事務", skills=["受発注"], location="大阪府")
            add_member(s, past_title="インフラ営業", skills=["法人営業"], location="東京都")
        seller = add_member(s, past_title="BtoBセールス", skills=["SFDC", "商談"], location="大阪府")
        sre = add_member(s, past_title="SRE", skills=["k8s", "ＡＷＳ"], location="東京都")
        outsider = add_member(s, past_title="アカウントエグゼクティブ", talent_pool=False)
        for person, job in ((seller, sales), (sre, infra), (outsider, sales)):
            add_application(s, person, job, status="in_process", decided_at=None,
                            applied_at=job.opened_at + timedelta(days=3))  # type: ignore[operator]


def test_recall_and_median_rank_with_and_without_the_semantic_parts(history: None) -> None:
    # Without the vocabulary the seller (BtoBセールス, SFDC, 商談) comes 7th, after the six 営業事務; the SRE
    # is 1st either way (ＡＷＳ folds to AWS). With it, both are 1st.
    assert pool_command("evaluate") == [
        "再応募 2件で検証（プールの人が、不採用・辞退の後に開いた求人へ応募したもの。"
        "その日にプール外だった 1件は除外）",
        "指標\t語彙あり\t語彙なし",
        "recall@5\t1.000\t0.500",
        "recall@10\t1.000\t1.000",
        "recall@20\t1.000\t1.000",
        "順位の中央値\t1\t4",
    ]


def test_since_keeps_the_jobs_opened_from_that_day(history: None) -> None:
    since = (NOW - timedelta(days=12)).date().isoformat()
    assert pool_command("evaluate", "--since", since)[0].startswith("再応募 1件で検証")
    bad = runner.invoke(pool_cli.app, ["evaluate", "--since", "2026-13-01"])
    assert bad.exit_code == 2 and "2026-13-01" in bad.output and "expected YYYY-MM-DD" in bad.output
