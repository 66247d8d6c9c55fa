"""Runs one send in a child process that the crash tests and bench/crash_drill.py SIGKILL mid-batch, and
what both need around it: the notices to send, the child's tagged database URL, waiting out its PostgreSQL
backends, and the next send run after the killed one."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, make_url, select, text

from junkan.config import Settings
from junkan.db import make_engine, session_scope
from junkan.db.models import Message
from junkan.db.types import utcnow
from junkan.mail.backends import build_backend
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.sender import OutboxSender
from tests.fakes.sendgrid import ReceivedRequest, SendGridFake
from tests.integration._outbox_data import SEND_NOW, add_application
from tests.mail_support import live_identity


def child_send(database_url: str, fake_url: str, api_key: str, tmp: str, workers: int, chunk: int) -> None:
    settings = Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": api_key, "sendgrid_host": fake_url,
                         "workers": workers, "outbox_dir": Path(tmp) / "outbox"}),
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(database_url)
    backend = build_backend(settings, sleep=lambda _s: None)
    OutboxSender(engine, settings, backend=backend, now=SEND_NOW, chunk_size=chunk).run()


def seed_due_notices(engine: Engine, settings: Settings, n: int) -> set[str]:
    """`n` new rejected applications with their notices queued; the notices' public ids."""
    with session_scope(engine) as s:
        before = set(s.scalars(select(Message.public_id)))
        for _ in range(n):
            add_application(s)
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, SEND_NOW)
        return set(s.scalars(select(Message.public_id))) - before


def send_run(engine: Engine, settings: Settings, *, hours_later: float = 0.0) -> None:
    """A send run; `hours_later` moves its wall clock past every lease of a killed run."""
    def clock() -> datetime:
        return utcnow() + timedelta(hours=hours_later)

    backend = build_backend(settings, sleep=lambda _s: None)
    OutboxSender(engine, settings, backend=backend, now=SEND_NOW, clock=clock).run()


def reached_after(fake: SendGridFake, ids: set[str], n: int) -> threading.Event:
    """An event set once the fake has received `n` requests for the messages `ids` (it becomes the fake's
    responder, answering as usual: set `fake.responder = None` afterwards)."""
    reached = threading.Event()
    lock = threading.Lock()
    seen = 0

    def count(req: ReceivedRequest) -> None:
        nonlocal seen
        if req.junkan_message_id in ids:
            with lock:  # the fake serves requests on several threads
                seen += 1
                if seen >= n:
                    reached.set()

    fake.responder = count
    return reached


def child_url(database_url: str, name: str) -> str:
    """The child's database URL, tagged with `name` so that its server backends can be found in
    pg_stat_activity."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False)


def child_backends(engine: Engine, application_name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                                {"n": application_name}).scalar_one())


def wait_for_child_backends_to_end(engine: Engine, application_name: str, deadline_s: float = 30.0) -> None:
    """After SIGKILL, a PostgreSQL backend may still be working through what the child sent before it
    died, and can commit its last transaction after we looked. Only once every backend of the child has
    left pg_stat_activity is the database final. SQLite has no server: the child's writes ended with it."""
    if engine.dialect.name != "postgresql":
        return
    end = time.monotonic() + deadline_s
    while (left := child_backends(engine, application_name)) > 0:
        if time.monotonic() > end:
            raise TimeoutError(f"{left} backend(s) of the killed child left after {deadline_s} s")
        time.sleep(0.05)  # polling a condition under a deadline, not a guessed wait
