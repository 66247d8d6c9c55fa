"""Two workers, one outbox: two OS processes run the `send-rejections` flow at the same time, against one
Prefect API (the test server), one database and the SendGrid fake, and every due notice is sent exactly
once — each process sent part of them.

Nothing but the outbox keeps them apart here: the runs are the flow's tasks in a flow of the child's own,
without the `junkan-send` slot that normally keeps sending runs from overlapping (flows/overlap.py), as
when a slot's lease ran out under a run that was only slow, not dead. The claim (a lease; `SKIP LOCKED`
on PostgreSQL, one conditional `UPDATE` under SQLite's single writer) is what makes a second worker
harmless (docs/operations.md "Scaling out").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import Engine, select

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.outbox.notices import enqueue_notices
from tests.fakes.sendgrid import SendGridFake
from tests.flows._clock import IN_THE_WINDOW
from tests.flows.test_send_rejections_flow import AS_OF
from tests.integration._outbox_data import add_application
from tests.mail_support import live_identity_vars

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "SG.two-senders"
NOTICES = 60


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(API_KEY) as server:
        server.latency_s = 0.05  # a remote API: each run is still sending when the other starts
        yield server


def _env(database_url: str, fake: SendGridFake, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("JUNKAN_")}
    env.update({
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "JUNKAN_DATABASE_URL": database_url,
        "JUNKAN_MAIL__BACKEND": "sendgrid",
        "JUNKAN_MAIL__SENDGRID_API_KEY": API_KEY,
        "JUNKAN_MAIL__SENDGRID_HOST": fake.url,
        "JUNKAN_MAIL__MAX_RETRIES": "0",
        # One connection each, eight notices a claim: the two runs take turns claiming chunks.
        "JUNKAN_MAIL__WORKERS": "1",
        "JUNKAN_MAIL__OUTBOX_DIR": str(tmp_path / "outbox"),
        **live_identity_vars(),
    })
    return env


def test_two_processes_sending_at_once_send_every_notice_exactly_once(
    engine: Engine, database_url: str, settings: Settings, tmp_path: Path, fake: SendGridFake
) -> None:
    with session_scope(engine) as s:
        for _ in range(NOTICES):
            add_application(s)
    clock = RunClock.fixed(IN_THE_WINDOW, as_of=AS_OF)
    assert enqueue_notices(engine, settings, clock).counts()["enqueued"] == NOTICES
    with session_scope(engine) as s:
        due = set(s.scalars(select(Message.public_id)))

    env = _env(database_url, fake, tmp_path)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.flows._send_child", AS_OF.isoformat(),
                               IN_THE_WINDOW.isoformat()],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = [json.loads(next(line for line in out.splitlines() if line.startswith("counts "))[7:])
              for out in outputs]

    sent = Counter(r.junkan_message_id for r in fake.snapshot() if r.status == 202)
    assert set(sent) == due and set(sent.values()) == {1}, "a notice was sent twice or not at all"
    # Both runs did real work: the second worker shared the queue instead of idling behind the first.
    assert sorted(c["sent"] > 0 for c in counts) == [True, True]
    assert sum(c["sent"] for c in counts) == NOTICES
    provider = {r.junkan_message_id: r.message_id for r in fake.snapshot() if r.status == 202}
    with session_scope(engine) as s:
        rows = list(s.scalars(select(Message)))
    assert {m.state for m in rows} == {"accepted"}
    assert all(provider[m.public_id] == m.provider_message_id for m in rows)
