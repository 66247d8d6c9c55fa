"""The drill's faults: seeded misbehaviour of the SendGrid fake, and fault points in the fakes' request
streams where the test kills the worker or drops the database connections."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, make_url, text, update

from junkan.db.models import Message
from junkan.db.models_ingest import IngestLock
from junkan.db.types import utcnow
from tests.fakes.sendgrid import ReceivedRequest, Reply, errors_body

KILL_DEADLINE_S = 120.0
#: Tags the worker's database connections, so that the drill can find (and wait out) their backends.
APPLICATION_NAME = "junkan-drill"


class KillSwitch:
    """Reached by a fake's request thread, acted on by the test's thread: the fake holds the request
    until the worker is dead, so nothing after the chosen point can happen before the kill."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.done = threading.Event()

    def fire(self) -> None:
        self.requested.set()
        self.done.wait(KILL_DEADLINE_S)

    def reset(self) -> None:
        self.requested.clear()
        self.done.clear()


@dataclass
class FaultPoint:
    """Do `action` when the `stream` ("ats" or "mail") sees its `at`-th request of the drill."""

    stream: str
    at: int
    action: Callable[[], None]
    fired: bool = False


@dataclass
class Points:
    """The drill's fault points, counted over the fakes' whole request streams (all rounds together)."""

    points: list[FaultPoint] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, stream: str) -> None:
        with self._lock:
            self._counts[stream] = n = self._counts.get(stream, 0) + 1
            due = [p for p in self.points if not p.fired and p.stream == stream and p.at == n]
            for point in due:
                point.fired = True
        for point in due:
            point.action()


class MailFaults:
    """SendGrid answering as on a bad day: some 429 (reset in a second), some 5xx, some slow answers
    (within the client's timeout: slow is not lost)."""

    def __init__(self, seed: int, points: Points) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.points = points
        self.injected: dict[str, int] = {"429": 0, "5xx": 0, "slow": 0}

    def __call__(self, req: ReceivedRequest) -> Reply | None:
        self.points.seen("mail")
        with self._lock:
            roll, pause = self._rng.random(), self._rng.uniform(0.2, 0.8)
        if roll < 0.06:
            self.injected["429"] += 1
            reset = str(int(time.time()) + 1)
            return Reply(429, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": reset}, errors_body(("too many requests", None)))
        if roll < 0.12:
            self.injected["5xx"] += 1
            return Reply(503, body=errors_body(("service unavailable", None)))
        if roll < 0.22:
            self.injected["slow"] += 1
            time.sleep(pause)  # the remote API being slow, not a synchronisation wait
        return None


def tagged_url(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"application_name": APPLICATION_NAME})
    return url.render_as_string(hide_password=False)


def terminate_backends(engine: Engine) -> int:
    """Drop every other connection to the database, as a failover or an admin would."""
    with engine.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        conn.commit()
    return int(killed)


def wait_for_backends_to_end(engine: Engine, deadline_s: float = 60.0) -> None:
    """A killed client's PostgreSQL backend can still commit what it had received; only once the worker's
    backends have left pg_stat_activity is the database final (docs/outbox.md, crash semantics)."""
    if engine.dialect.name != "postgresql":
        return
    end = time.monotonic() + deadline_s
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")
    while True:
        with engine.connect() as conn:
            left = int(conn.execute(query, {"n": APPLICATION_NAME}).scalar_one())
        if left == 0:
            return
        assert time.monotonic() < end, f"{left} backend(s) of the killed worker left after {deadline_s} s"
        time.sleep(0.1)  # polling a condition under a deadline, not a guessed wait


def let_leases_run_out(engine: Engine) -> None:
    """What the 15 minutes after a crash do: the killed run's outbox leases and ingest lock expire, so the
    next run may take over (it then marks the killed run's `sending` rows `unknown`)."""
    past = utcnow().replace(year=2000)
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.lease_until.is_not(None)).values(lease_until=past))
        conn.execute(update(IngestLock).values(expires_at=past))
