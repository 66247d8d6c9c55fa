"""`recontact` end to end under Prefect: shortlist and auto runs, their counts and artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flows.recontact import ARTIFACT_KEY, MODEL_KEY, SHORTLIST_KEY, recontact
from junkan.count_labels import label
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.runtime import simulated_time
from tests.flows._artifacts import newest_text
from tests.integration._pool_data import AS_OF, NOW, add_job, add_member


@pytest.fixture(autouse=True)
def _real_clock_on_as_of() -> Iterator[None]:
    """The runs' real clock stands at NOW, 10:00 on AS_OF: inside its sending window."""
    with simulated_time(NOW):
        yield


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "file")
    monkeypatch.setenv("JUNKAN_MAIL__OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("JUNKAN_RECONTACT__SHORTLIST_DIR", str(tmp_path / "shortlists"))
    monkeypatch.setenv("JUNKAN_RECONTACT__HOLDOUT_SHARE", "0")
    with session_scope(engine) as s:
        add_job(s, "バックエンドエンジニア", required=["Go"], opened_at=NOW - timedelta(days=2))
        add_job(s, "Goエンジニア", required=["Go"], opened_at=NOW - timedelta(days=1))
        add_member(s, skills=["Go"], name="高橋 一郎")
        add_member(s, skills=["Go"], past_title="経理", recontact=None)
    return tmp_path


def test_shortlist_run_publishes_counts_digest_and_model_report(engine: Engine, env: Path) -> None:
    counts = recontact(as_of=AS_OF)
    assert counts["new_openings"] == 2 and counts["eligible_pool"] == 2 and counts["shortlists"] == 2
    assert counts["matches"] >= 2 and "mails_enqueued" not in counts
    summary = newest_text(ARTIFACT_KEY)
    assert "| 新しい募集枠 | new openings | 2 |" in summary
    assert "| マッチ対象のプール | eligible pool | 2 |" in summary
    assert "| クールダウン期間中 | in the cool-down |" in summary
    assert [key for key in counts if label(key) is None] == []  # what `daily`'s summary shows of this run
    digest = newest_text(SHORTLIST_KEY)
    assert "必須スキル 1/1 一致（Go）" in digest and "c_" in digest and "高橋" not in digest
    assert "Rule-based score in use" in newest_text(MODEL_KEY)
    assert list((env / "shortlists").glob("recontact-2026-11-20-run*.xlsx"))


def test_auto_run_mails_one_person_once_and_reports_it(engine: Engine, env: Path) -> None:
    counts = recontact(as_of=AS_OF, mode="auto")
    assert counts["mails_enqueued"] == 1 and counts["mails_sent"] == 1
    assert counts["no_recontact_consent"] == 1
    summary = newest_text(ARTIFACT_KEY)
    assert "| 再コンタクトメール：キューに追加 | re-contact mails: enqueued | 1 |" in summary
    assert [key for key in counts if label(key) is None] == []
    assert len(list((env / "outbox").glob("*.eml"))) == 1
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.kind == "recontact")) == 1


def test_dry_run_changes_nothing(engine: Engine, env: Path) -> None:
    counts = recontact(as_of=AS_OF, mode="auto", dry_run=True)
    assert counts["mails_enqueued"] == 1 and counts["mails_previewed"] == 1
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    # Under its own key: the preview never replaces the real run's artifact in the UI.
    assert "dry run" in newest_text(f"{ARTIFACT_KEY}-dry-run")
