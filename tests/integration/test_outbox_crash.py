"""Crash injection: whatever point a send run dies at, no message is sent twice, and every due message
ends `accepted` or `unknown` once a later run has cleaned up.

Each trial compares the SendGrid fake's log of received requests (by the opaque id in custom_args) with
the database. Trials are randomised with a fixed, overridable seed (JUNKAN_CRASH_SEED) so a failure can be
replayed.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.mail.backends import build_backend
from junkan.outbox.sender import OutboxSender
from tests.fakes.sendgrid import ReceivedRequest, SendGridFake
from tests.integration._outbox_child import (
    child_backends,
    child_send,
    child_url,
    reached_after,
    seed_due_notices,
    send_run,
    wait_for_child_backends_to_end,
)
from tests.integration._outbox_data import SEND_NOW
from tests.mail_support import live_identity

API_KEY = "SG.crash-test"
SEED = int(os.environ.get("JUNKAN_CRASH_SEED", "20261125"))
MAIN_STEPS = ("claimed", "rendered", "recorded")
WORKER_STEPS = ("marked_sending", "provider_call", "provider_returned")


class InjectedCrash(RuntimeError):
    pass


class CrashAt:
    """A hook that raises on the n-th time `step` is reached (thread-safe: workers call it too)."""

    def __init__(self, step: str, nth: int) -> None:
        self.step, self.nth, self.seen = step, nth, 0
        self._lock = threading.Lock()

    def __call__(self, step: str, ids: Sequence[str]) -> None:
        if step != self.step:
            return
        with self._lock:
            self.seen += 1
            hit = self.seen == self.nth
        if hit:
            raise InjectedCrash(f"injected at {step} #{self.nth}")


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(API_KEY) as server:
        yield server


def _settings(database_url: str, fake: SendGridFake, tmp: Path, workers: int = 2) -> Settings:
    return Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": API_KEY, "sendgrid_host": fake.url,
                         "workers": workers, "outbox_dir": tmp / "outbox"}),
        _env_file=None,  # type: ignore[call-arg]
    )


def _check(engine: Engine, fake: SendGridFake, ids: set[str], context: str) -> Counter[str]:
    log: list[ReceivedRequest] = fake.snapshot()
    sent = Counter(r.junkan_message_id for r in log if r.status == 202)
    dupes = {pid: n for pid, n in sent.items() if n > 1}
    assert not dupes, f"{context}: sent twice: {dupes}"
    with session_scope(engine) as s:
        rows = {m.public_id: m for m in s.scalars(select(Message).where(Message.public_id.in_(ids)))}
    states = Counter(m.state for m in rows.values())
    assert set(states) <= {"accepted", "unknown"}, f"{context}: states {dict(states)}"
    provider_ids = {r.junkan_message_id: r.message_id for r in log if r.status == 202}
    for pid, m in rows.items():
        if m.state == "accepted":
            # Accepted in the DB means the provider really has it, with the id we stored.
            assert provider_ids.get(pid) == m.provider_message_id, f"{context}: {pid} accepted but not sent"
        if pid in provider_ids:
            assert m.state in ("accepted", "unknown"), f"{context}: {pid} sent but {m.state}"
    return states


def test_randomised_exceptions_between_claim_and_commit(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    rng = random.Random(SEED)
    settings = _settings(database_url, fake, tmp_path)
    totals: Counter[str] = Counter()
    steps_hit: Counter[str] = Counter()
    for trial in range(36):
        step = rng.choice((*MAIN_STEPS, *WORKER_STEPS))
        nth = rng.randint(1, 3) if step in MAIN_STEPS else rng.randint(1, 8)
        ids = seed_due_notices(engine, settings, rng.randint(4, 10))
        hook = CrashAt(step, nth)
        backend = build_backend(settings, sleep=lambda _s: None)
        sender = OutboxSender(engine, settings, backend=backend, now=SEND_NOW, hook=hook,
                              chunk_size=rng.randint(1, 4))
        try:
            sender.run()
        except InjectedCrash:
            steps_hit[step] += 1
        else:
            if hook.seen >= nth:
                steps_hit[step] += 1  # worker-side raise: recorded as unknown, the run went on
        send_run(engine, settings, hours_later=2)
        totals += _check(engine, fake, ids, f"seed={SEED} trial={trial} step={step} nth={nth}")
    # The trials really did crash at every kind of step, and some of them lost a send's outcome.
    assert set(steps_hit) == {*MAIN_STEPS, *WORKER_STEPS}, steps_hit
    assert totals["accepted"] > 0 and totals["unknown"] > 0


def test_sigkill_of_a_sending_process_mid_batch(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    rng = random.Random(SEED + 1)
    fake.latency_s = 0.02  # a remote API: the kill lands while requests are in flight
    settings = _settings(database_url, fake, tmp_path)
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    for trial in range(3):
        ids = seed_due_notices(engine, settings, 30)
        kill_after = rng.randint(2, 20)
        reached = reached_after(fake, ids, kill_after)
        child_name = f"junkan-crash-child-{os.getpid()}-{trial}"
        proc = ctx.Process(target=child_send, args=(child_url(database_url, child_name), fake.url, API_KEY,
                                                    str(tmp_path), workers, 6))
        proc.start()
        assert reached.wait(timeout=60), "the child never got going"
        on_postgres = engine.dialect.name == "postgresql"
        if on_postgres:
            assert child_backends(engine, child_name) > 0, "the child's connections are not tagged"
        os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL
        wait_for_child_backends_to_end(engine, child_name)
        fake.responder = None
        with session_scope(engine) as s:
            left = Counter(s.scalars(select(Message.state).where(Message.public_id.in_(ids))))
        assert left["pending"] > 0, "the kill came too late to test anything"
        # Each worker marks its own message `sending` just before its request: the kill leaves at most one
        # uncertain message per worker, the rest of the claimed rows are plain `pending`.
        assert left["sending"] <= workers, f"trial={trial}: {left['sending']} sending, {workers} workers"
        send_run(engine, settings, hours_later=2)
        states = _check(engine, fake, ids, f"seed={SEED} kill trial={trial} after={kill_after}")
        assert states["accepted"] + states["unknown"] == 30
