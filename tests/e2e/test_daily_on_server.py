"""`daily` end to end on a real Prefect server: deployed from prefect.yaml into the `junkan` process work
pool, picked up by a worker, run for the demo company's day, checked through the Prefect API."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.objects import Artifact
from sqlalchemy import Engine, func, select

from flows import ingest_decisions, recontact, send_rejections, sync_email_events, sync_partner_stats
from flows.catalog import IN_DAILY
from junkan.count_labels import shown
from junkan.db import session_scope
from junkan.db.models import Application, Message, Quarantine
from tests.e2e._prefect import PrefectServer, Worker
from tests.e2e._runs import api, sub_flow_runs, trigger_daily, wait_for
from tests.e2e._scenario import SENDGRID_KEY, base_env, csv_ats_env, demo_company
from tests.fakes.sendgrid import SendGridFake
from tests.flows._artifacts import labelled_counts, of_runs

#: The counts this test reads from the flows' tables.
KEYS = ("new", "quarantined", "sent")
#: The sub-flows `daily` runs, in its order.
FLOWS = [entry.name for entry in IN_DAILY]

pytestmark = [pytest.mark.once_per_ci, pytest.mark.timeout(900)]


@pytest.fixture
def sendgrid() -> Iterator[SendGridFake]:
    with SendGridFake(SENDGRID_KEY, empty_suppressions=True) as fake:
        yield fake


def _table(artifact: Artifact) -> dict[str, Any]:
    """A counts table as {count key: number}, read from the operator's Japanese labels (each row must have
    one: junkan/count_labels.py)."""
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    by_label = labelled_counts(rows)
    return {key: by_label[shown(key).ja] for key in KEYS if shown(key).ja in by_label}


def test_daily_runs_on_a_prefect_server_through_a_process_worker(
    prefect_server: PrefectServer, engine: Engine, database_url: str, sendgrid: SendGridFake, tmp_path: Path
) -> None:
    company = demo_company(tmp_path / "company")
    env = {**base_env(database_url, tmp_path, sendgrid), **csv_ats_env(company, tmp_path)}
    worker = Worker(prefect_server, env, tmp_path / "worker.log").start()
    try:
        with api(prefect_server) as client:
            run_id = trigger_daily(client, company.day)
            run = wait_for(client, run_id)
            subs = sub_flow_runs(client, run_id)
            names = Counter(client.read_flow(s.flow_id).name for s in subs)
            found = of_runs(client, [run_id, *(s.id for s in subs)])
    finally:
        assert worker.stop() is not None

    assert run.state is not None and run.state.is_completed(), (run.state, worker.log_tail())
    assert run.deployment_id is not None
    # Every sub-flow ran once, as a child of this run, and completed.
    assert names == Counter(list(FLOWS))
    assert all(s.state is not None and s.state.is_completed() for s in subs), [s.state for s in subs]

    by_key = {a.key: a for a in found if a.key}
    assert by_key.keys() >= {"daily-summary", ingest_decisions.ARTIFACT_KEY, sync_email_events.ARTIFACT_KEY,
                             send_rejections.ARTIFACT_KEY, sync_partner_stats.ARTIFACT_KEY,
                             recontact.ARTIFACT_KEY}
    assert by_key["daily-summary"].flow_run_id == run_id
    assert all(name in str(by_key["daily-summary"].data) for name in FLOWS)

    with session_scope(engine) as s:
        stored = s.scalar(select(func.count()).select_from(Application))
        listed = s.scalar(select(func.count()).select_from(Quarantine))
        accepted = dict(s.execute(select(Message.public_id, Message.provider_message_id)
                                  .where(Message.state == "accepted")).all())
    # Nothing lost: every row of the export is stored or quarantined (two of the demo's broken rows; the
    # third, without an @, is stored and listed for review too).
    ingest = _table(by_key[ingest_decisions.ARTIFACT_KEY])
    assert stored + ingest["quarantined"] == company.stats.applications
    assert ingest["quarantined"] == 2 and listed == 3 and ingest["new"] == stored
    # Each notice the outbox counts as accepted reached SendGrid exactly once, with the id we stored.
    sent = {r.junkan_message_id: r.message_id for r in sendgrid.accepted}
    assert len(sent) == len(sendgrid.accepted) and sent == accepted and len(accepted) > 20
    assert _table(by_key[send_rejections.ARTIFACT_KEY])["sent"] == len(accepted)

