"""`recontact` with JUNKAN_RECONTACT__APPROVAL=ui: the run pauses for a recruiter, through the Prefect API
(docs/pool.md "Approval")."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from prefect.input.run_input import keyset_from_paused_state
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows.recontact import APPROVAL_KEY, recontact
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.models_pool import MatchRun
from junkan.pool.refs import candidate_ref
from tests.fakes.greenhouse import GreenhouseFake, sample_data
from tests.flows._artifacts import newest_text
from tests.integration._pool_data import AS_OF, NOW, add_job, add_member
from tests.integration._writeback_support import add_people


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine, tmp_path: Path) -> dict[str, int]:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", "approval-secret")
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "file")
    monkeypatch.setenv("JUNKAN_MAIL__OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("JUNKAN_RECONTACT__SHORTLIST_DIR", str(tmp_path / "shortlists"))
    monkeypatch.setenv("JUNKAN_RECONTACT__HOLDOUT_SHARE", "0")
    monkeypatch.setenv("JUNKAN_RECONTACT__APPROVAL", "ui")
    with session_scope(engine) as s:
        add_job(s, "Goエンジニア", required=["Go"], opened_at=NOW - timedelta(days=1), external_id="J-GO")
        kept = add_member(s, skills=["Go"], name="高橋 一郎")
        dropped = add_member(s, skills=["Go"], name="伊藤 美咲")
    return {"kept": kept.id, "dropped": dropped.id}


def _paused_run_id(deadline_s: float = 120.0) -> Any:
    """The id of the run once it waits for input (polling the API under a deadline, not a guessed wait)."""
    end = time.monotonic() + deadline_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < end:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
            waiting = [r for r in runs if r.state and r.state.state_details.run_input_keyset]
            if waiting:
                return waiting[0]
            time.sleep(0.2)
    raise AssertionError("the recontact run never paused for approval")


def test_only_the_approved_people_are_mailed_and_the_decision_is_recorded(
    engine: Engine, env: dict[str, int]
) -> None:
    links = Settings(links={"secret": "approval-secret"}, _env_file=None).links  # type: ignore[call-arg]
    kept, dropped = candidate_ref(env["kept"], links), candidate_ref(env["dropped"], links)
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(counts=recontact(as_of=AS_OF, mode="auto")))
    runner.start()

    paused = _paused_run_id()
    schema_key = keyset_from_paused_state(paused.state)["schema"]
    with get_client(sync_client=True) as client:
        schema = client.read_flow_run_input(paused.id, schema_key)
    assert kept in schema and dropped in schema and "高橋" not in schema
    resume_flow_run(paused.id, run_input={"job_J_GO": [kept], "reviewer": "recruiter-07",
                                          "comment": "経験年数を確認済み"})
    runner.join(timeout=180)

    assert not runner.is_alive() and result["counts"]["mails_sent"] == 1
    counts = result["counts"]
    decided = (counts["approved_matches"], counts["deselected_matches"], counts["mails_not_approved"])
    assert decided == (1, 1, 1)
    with Session(engine) as s:
        mails = {m.candidate_id: (m.state, m.cancelled_reason) for m in s.scalars(select(Message))}
        decision = s.scalars(select(MatchRun.params)).one()["approval"]
    assert mails[env["kept"]][0] in ("accepted", "sent", "delivered")
    assert mails[env["dropped"]] == ("cancelled", "recontact_not_approved")
    assert decision["by"] == "recruiter-07" and decision["deselected"] == [f"J-GO:{dropped}"]
    artifact = newest_text(APPROVAL_KEY)
    assert "recruiter-07" in artifact and dropped in artifact and "伊藤" not in artifact


def test_a_pause_that_times_out_sends_nothing_and_says_so(
    engine: Engine, env: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUNKAN_RECONTACT__APPROVAL_TIMEOUT_S", "1")

    counts = recontact(as_of=AS_OF, mode="auto")

    assert counts["approval_timed_out"] == 1 and counts["mails_sent"] == 0
    with Session(engine) as s:
        assert {m.state for m in s.scalars(select(Message))} == {"cancelled"}
    assert "期限切れ" in newest_text(APPROVAL_KEY) and "誰にもメールを送らず" in newest_text(APPROVAL_KEY)


def test_the_flow_writes_the_approved_matches_back_into_greenhouse(
    httpserver: HTTPServer, engine: Engine, env: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3, n_jobs=2))
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUNKAN_RECONTACT__APPROVAL", "none")
    add_people(engine, "greenhouse", [("200000", "100000"), ("200001", "100001")], past_job="4000",
               new_job="4001")

    counts = recontact(as_of=AS_OF)

    # Both of the Greenhouse people: tagged and noted once (the csv fixture's people are not Greenhouse's).
    assert (counts["tag_written"], counts["note_written"]) == (2, 2)
    assert sorted(a["candidate_id"] for a in fake.resources["applied_candidate_tags"]) == [100_000, 100_001]
    assert recontact(as_of=AS_OF).get("tag_written", 0) == 0
