"""A sending run killed while it holds `junkan-send` does not keep the slot for good (docs/operations.md,
"Concurrency leases").

`junkan run send-rejections` is SIGKILLed (its whole process group: the run and its temporary Prefect
server, as when the machine goes) while its provider request hangs. The next `junkan run` finds the slot
taken, says that its holder may have died and when its lease runs out, and sends once that lease has run
out - long before JUNKAN_LIMITS__SEND_WAIT_S. The same against a real `prefect server start` (leases on
disk, as docs/operations.md asks), restarted between the kill and the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import Engine, func, select

from junkan.db import session_scope
from junkan.db.models import Message
from tests.e2e._prefect import BIN, REPO_ROOT, PrefectServer, stop_group
from tests.fakes.sendgrid import ReceivedRequest, SendGridFake
from tests.integration._outbox_data import add_application
from tests.mail_support import live_identity_vars

pytestmark = pytest.mark.timeout(900)

KEY = "SG.slot-lease"
AS_OF = "2026-11-18"  # a Wednesday: the notices decided on Monday 2026-11-16 are due
LEASE_S = 180  # longer than the next run takes to start on a busy machine: it finds the slot still held
WAIT_S = 600  # far longer than the lease: a run that gets the slot only after this was not freed by it


def _env(home: Path, database_url: str, fake: SendGridFake) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JUNKAN_"))}
    return {
        **base, **live_identity_vars(),
        "PYTHONPATH": str(REPO_ROOT), "PREFECT_HOME": str(home),
        "JUNKAN_DATABASE_URL": database_url,
        "JUNKAN_MAIL__BACKEND": "sendgrid", "JUNKAN_MAIL__SENDGRID_API_KEY": KEY,
        "JUNKAN_MAIL__SENDGRID_HOST": fake.url, "JUNKAN_MAIL__MAX_RETRIES": "0",
        "JUNKAN_MAIL__WORKERS": "1", "JUNKAN_MAIL__TIMEOUT_S": "600",
        "JUNKAN_LIMITS__SEND_LEASE_S": str(LEASE_S), "JUNKAN_LIMITS__SEND_WAIT_S": str(WAIT_S),
    }


def _run_cmd() -> list[str]:
    return [str(BIN / "junkan"), "run", "send-rejections", "--as-of", AS_OF]


def _kill_while_sending(engine: Engine, fake: SendGridFake, env: dict[str, str], tmp_path: Path) -> list[str]:
    """Start a `junkan run send-rejections` with three notices due and SIGKILL its process group while its
    first provider request hangs, holding the slot. Then two more notices are decided: only a run that got
    the slot sends them. Returns the public id of the hung request (the fake answers it once released)."""
    with session_scope(engine) as s:
        for i in range(3):
            add_application(s, email=f"slot{i}@example.com")
    reached, release = threading.Event(), threading.Event()
    hung: list[str] = []

    def hang(req: ReceivedRequest) -> None:  # the provider takes the request and never answers in time
        hung.append(req.junkan_message_id or "")
        reached.set()
        release.wait(600)

    fake.responder = hang  # type: ignore[assignment]
    log = tmp_path / "first.log"
    with log.open("wb") as sink:
        first = subprocess.Popen(_run_cmd(), env=env, cwd=tmp_path, start_new_session=True,
                                 stdout=sink, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 300
        while not reached.wait(0.5):  # polling the child under a deadline, not a guessed wait
            assert first.poll() is None and time.monotonic() < end, \
                f"the first run never reached the provider:\n{log.read_text()[-4000:]}"
    finally:
        stop_group(first, signal.SIGKILL)  # the run (and a temporary Prefect server of its own), at once
        fake.responder = None
        release.set()
    with session_scope(engine) as s:
        for i in range(2):
            add_application(s, email=f"later{i}@example.com")
    return hung


class NextRun(NamedTuple):
    returncode: int
    #: Seconds from the kill until the next run had finished.
    took: float
    #: Mails the provider accepted other than the dead run's hung one.
    sent: int
    #: Messages per outbox state afterwards.
    states: dict[str, int]
    out: str


def _next_run(engine: Engine, fake: SendGridFake, env: dict[str, str], tmp_path: Path,
              hung: list[str], killed_at: float) -> NextRun:
    """The next `junkan run send-rejections`, and what it did."""
    second = subprocess.run(_run_cmd(), env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=WAIT_S + 300, check=False)
    took = time.monotonic() - killed_at
    with session_scope(engine) as s:
        states = dict(s.execute(select(Message.state, func.count()).group_by(Message.state)).all())
    sent = len([r for r in fake.accepted if r.junkan_message_id not in hung])
    return NextRun(second.returncode, took, sent, states, second.stdout + second.stderr)


#: The dead run's own messages keep their outbox leases (its hung send stays `sending`, the two it never
#: reached `pending`; a later run settles them); the next run sends the two decided meanwhile.
AFTER = {"accepted": 2, "sending": 1, "pending": 2}


def test_a_killed_junkan_run_frees_the_sending_slot_within_its_lease(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    with SendGridFake(KEY) as fake:
        env = _env(tmp_path / "prefect-home", database_url, fake)
        hung = _kill_while_sending(engine, fake, env, tmp_path)
        run = _next_run(engine, fake, env, tmp_path, hung, time.monotonic())
    assert run.returncode == 0, run.out[-4000:]
    assert run.took < WAIT_S - 60, f"the next run got the slot only after {run.took:.0f} s"
    assert run.sent == 2 and run.states == AFTER, run.states
    assert "held by another run that sends or by one that may have died" in run.out, run.out[-4000:]
    assert "its lease runs out at" in run.out, run.out[-4000:]
    assert "gave back 1 slot lease(s) that ran out, held by runs that died" in run.out, run.out[-4000:]


def test_a_run_killed_on_a_server_restarted_since_frees_the_sending_slot_within_its_lease(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "server-home"
    home.mkdir()
    server = PrefectServer(home).start()
    try:
        server.setup()
        with SendGridFake(KEY) as fake:
            env = {**_env(tmp_path / "client-home", database_url, fake), **server.env}
            hung = _kill_while_sending(engine, fake, env, tmp_path)
            killed_at = time.monotonic()
            server.stop()  # a restart: a server keeping leases in memory forgets the dead run's
            server.start()
            run = _next_run(engine, fake, env, tmp_path, hung, killed_at)
    finally:
        if server.running:
            server.stop()
    assert run.returncode == 0, run.out[-4000:]
    # Freed by the restarted server's repossessor once the lease ran out, long before the wait would end.
    assert run.took < WAIT_S - 60, f"the next run got the slot only after {run.took:.0f} s"
    assert run.sent == 2 and run.states == AFTER, run.states
    # On a full server no API lists leases: the line gives the latest moment the slot is freed.
    assert "held by another run that sends or by one that may have died" in run.out, run.out[-4000:]
    assert "runs out, and the server frees the slot, by" in run.out, run.out[-4000:]
