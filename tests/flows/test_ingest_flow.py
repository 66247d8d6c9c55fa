"""`ingest-decisions` end to end: only the JUNKAN_* env vars point it at a Greenhouse v3 fake."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select

from flows.ingest_decisions import ARTIFACT_KEY, ingest_decisions
from junkan.db.models import Application, Candidate, Watermark
from tests.fakes.greenhouse import GreenhouseFake, sample_data
from tests.flows._artifacts import labelled_counts, table_rows


def test_ingest_decisions_reads_every_page_and_publishes_the_counts(
    httpserver: HTTPServer, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1100 applications 3 h apart, all in the past (a record dated in the future would be quarantined).
    data = sample_data(1100, seed=7, start=datetime(2026, 5, 1, tzinfo=UTC))
    fake = GreenhouseFake(httpserver, data)
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)

    state = ingest_decisions(return_state=True)
    counts = state.result()

    statuses = [a["status"] for a in data.applications]
    assert counts["new"] == 1100 and counts["quarantined"] == 0
    assert counts["rejected"] == statuses.count("rejected") - counts["withdrawn"]
    assert counts["hired"] == statuses.count("hired")
    assert counts["reapplied"] > 0
    assert len(fake.calls("/v3/applications")) == 3  # 500 + 500 + 100: every cursor page followed
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Application)).scalar_one() == 1100
        assert conn.execute(select(func.count()).select_from(Candidate)).scalar_one() == len(data.candidates)
        assert conn.execute(select(Watermark.value)).scalar_one() is not None

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
        )
    assert len(artifacts) == 1
    table = artifacts[0].data
    rows = table_rows(artifacts[0])
    assert labelled_counts(rows) == {
        "新規": 1100, "更新": 0, "不採用": counts["rejected"], "採用": counts["hired"],
        "辞退": counts["withdrawn"],
        "再応募": counts["reapplied"], "隔離したレコード": 0, "隔離した求人・募集枠・理由": 0, "宛先なし": 0,
        "消去済みの人（読み飛ばし）": 0}
    assert [row["item"] for row in rows][:3] == ["new", "updated", "rejected"]  # English beside it
    # Counts only: no e-mail address or name of the fake's candidates reaches the artifact.
    assert "@" not in str(table) and "山田" not in str(table)
