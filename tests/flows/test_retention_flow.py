"""`retention` under Prefect: a dry run lists what is due and changes nothing; the artifact is counts only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select

from flows.retention import ARTIFACT_KEY, retention
from junkan.db import session_scope
from junkan.db.models import Application, Candidate
from tests.flows._artifacts import labelled_counts, newest_table


def test_dry_run_then_run(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    decided = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        cand = Candidate(email_key="old@example.jp", display_name="古田 一郎")
        s.add(cand)
        s.flush()
        s.add(Application(source="csv", external_id="A1", candidate_id=cand.id, status="rejected",
                          applied_at=decided, decided_at=decided, content_hash="x"))

    counts = retention(as_of=date(2026, 7, 9), dry_run=True)
    assert counts["anonymised_rejected_days"] == 1
    with session_scope(engine) as s:
        assert s.scalar(select(Candidate.email_key)) == "old@example.jp"

    counts = retention(as_of=date(2026, 7, 9))
    assert counts["anonymised_rejected_days"] == 1 and counts["rows_candidate"] == 1
    shown = labelled_counts(newest_table(ARTIFACT_KEY)[0])
    assert shown["匿名化：保存期間を過ぎた不採用・辞退者"] == 1 and shown["消去した行：候補者"] == 1
    artifact = json.dumps(newest_table(ARTIFACT_KEY), ensure_ascii=False)
    assert "old@example.jp" not in artifact and "古田" not in artifact
    with session_scope(engine) as s:
        assert s.scalar(select(Candidate.email_key)) is None
