"""The outbox against the local SendGrid fake: provider errors, and two runs at once never double-send."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.mail.backends import build_backend
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.review import list_messages, resolve
from junkan.outbox.sender import OutboxSender
from tests.fakes.sendgrid import SendGridFake, errors_body
from tests.fakes.silent_http import RawRequest, SilentHTTPServer, never_accepting_port
from tests.integration._outbox_data import SEND_NOW, add_application
from tests.mail_support import assert_backoff, live_identity

API_KEY = "SG.outbox-test"


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(API_KEY) as server:
        yield server


def sendgrid_settings(database_url: str, fake_url: str, tmp: Path, *, workers: int = 4,
                      key: str = API_KEY, max_retries: int = 2, timeout_s: float = 30.0) -> Settings:
    return Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": key, "sendgrid_host": fake_url,
                         "workers": workers, "max_retries": max_retries, "backoff_base_s": 0.5,
                         "backoff_max_s": 4.0, "timeout_s": timeout_s, "outbox_dir": tmp / "outbox"}),
        _env_file=None,  # type: ignore[call-arg]
    )


#: `waiting(host, n, **options)`: settings for the SendGrid at `host` (options as in sendgrid_settings),
#: with `n` rejection notices enqueued under them.
Waiting = Callable[..., Settings]


@pytest.fixture
def waiting(engine: Engine, database_url: str, tmp_path: Path) -> Waiting:
    def seeded(host: str, n: int, **options: Any) -> Settings:
        settings = sendgrid_settings(database_url, host, tmp_path, **options)
        with session_scope(engine) as s:
            for _ in range(n):
                add_application(s)
        with session_scope(engine) as s:
            enqueue_due_notices(s, settings, SEND_NOW)
        return settings

    return seeded


def _states(engine: Engine) -> dict[str, Message]:
    with session_scope(engine) as s:
        return {m.public_id: m for m in s.scalars(select(Message))}


def _junkan_id(request: RawRequest) -> str:
    return str(request.json["personalizations"][0]["custom_args"]["junkan_message_id"])


def _run(engine: Engine, settings: Settings, sleeps: list[float] | None = None, **kw):  # type: ignore[no-untyped-def]
    backend = build_backend(settings, sleep=(sleeps.append if sleeps is not None else lambda _s: None))
    return OutboxSender(engine, settings, backend=backend, now=SEND_NOW, **kw).run()


def test_request_carries_only_the_opaque_id_and_the_provider_id_is_stored(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    fake.validate_schema = True
    settings = sendgrid_settings(database_url, fake.url, tmp_path)
    with session_scope(engine) as s:
        add_application(s, email="taro@example.com", partner_consent=True)
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, SEND_NOW)
    counts = _run(engine, settings)
    assert counts.sent == 1
    (req,) = fake.accepted
    (msg,) = _states(engine).values()
    assert msg.provider_message_id == req.message_id and msg.state == "accepted"
    personalization = req.body["personalizations"][0]
    assert personalization["custom_args"] == {"junkan_message_id": msg.public_id}
    assert personalization["to"][0]["email"] == "taro@example.com"
    assert personalization["subject"] == msg.subject
    assert req.body["categories"][0] == "rejection"
    assert "List-Unsubscribe" in req.body["headers"]
    assert [c["type"] for c in req.body["content"]] == ["text/plain", "text/html"]
    assert "/r/" in req.body["content"][0]["value"]  # consented: the tracked partner link is in


@pytest.mark.parametrize(
    ("fault", "code"),
    [("wrong key", "http_401"), ("key without the mail.send scope", "http_403"),
     ("unverified sender", "http_400"), ("TLS spoken to a plain port", "tls_error")],
)
def test_a_refusal_of_us_fails_no_notice_and_the_run_after_the_fix_sends_each_once(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake, waiting: Waiting, fault: str,
    code: str,
) -> None:
    fake.latency_s = 0.2  # eight requests are in flight when the first refusal comes back
    host, key = fake.url, API_KEY
    if fault == "wrong key":
        key = "SG.wrong-key"
    elif fault == "key without the mail.send scope":
        fake.fail_next(403, times=1000)
    elif fault == "unverified sender":
        fake.fail_next(400, times=1000, body=errors_body(
            ("The from address does not match a verified Sender Identity.", "from")))
    else:
        host = fake.url.replace("http://", "https://")
    broken = waiting(host, 94, workers=8, key=key)

    counts = _run(engine, broken)

    assert counts.fatal and (counts.sent, counts.failed) == (0, 0)
    states = _states(engine)
    assert {m.state for m in states.values()} == {"pending"}
    assert all(m.lease_owner is None for m in states.values())
    held = {pid for pid, m in states.items() if m.last_error is not None}
    assert counts.held == len(held) and 2 <= len(held) < 94  # the in-flight ones, then it stopped
    assert all(states[pid].last_error_code == code and states[pid].attempts == 1 for pid in held)
    assert all(m.attempts == 0 for pid, m in states.items() if pid not in held)
    refused = fake.snapshot()
    if code != "tls_error":  # a TLS handshake never becomes a request
        assert Counter(r.junkan_message_id for r in refused) == dict.fromkeys(held, 1)

    fake.clear_script()  # the fix: a new key, the scope, a verified sender, the right URL
    fake.latency_s = 0.0
    fixed = sendgrid_settings(database_url, fake.url, tmp_path, workers=8)
    again = _run(engine, fixed)

    assert (again.sent, again.failed, again.held, again.fatal) == (94, 0, 0, False)
    states = _states(engine)
    accepted = [r for r in fake.snapshot() if r.status == 202]
    assert Counter(r.junkan_message_id for r in accepted) == dict.fromkeys(states, 1)
    assert {r.junkan_message_id: r.message_id for r in accepted} == {
        pid: m.provider_message_id for pid, m in states.items() if m.state == "accepted"
    }
    assert len(fake.snapshot()) == len(refused) + 94


def test_a_host_that_refuses_connections_fails_no_notice(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake, waiting: Waiting
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = waiting(closed, 60, workers=8, max_retries=1)
    counts = _run(engine, settings, max_consecutive_retries=16)
    assert counts.provider_unavailable and (counts.sent, counts.failed) == (0, 0)
    states = _states(engine)
    assert {m.state for m in states.values()} == {"pending"}
    tried = [m for m in states.values() if m.last_error is not None]
    assert len(tried) == counts.retry >= 16
    assert all(m.last_error_code == "connect_error" and "ConnectionRefusedError" in (m.last_error or "")
               for m in tried)
    assert _run(engine, sendgrid_settings(database_url, fake.url, tmp_path, workers=8)).sent == 60
    assert sorted(fake.accepted_message_ids()) == sorted(states)  # type: ignore[type-var]


def test_400_fails_that_message_with_sendgrids_message_and_the_rest_go_out(
    engine: Engine, fake: SendGridFake, waiting: Waiting
) -> None:
    settings = waiting(fake.url, 3, workers=1)
    fake.fail_next(400, body=errors_body(("Does not contain a valid address.", "personalizations.0.to")))
    counts = _run(engine, settings)
    assert (counts.sent, counts.failed, counts.fatal) == (2, 1, False)
    (bad,) = [m for m in _states(engine).values() if m.state == "failed"]
    assert bad.last_error_code == "http_400"
    assert "Does not contain a valid address." in (bad.last_error or "")


def test_5xx_exhausted_leaves_pending_with_backoff_and_the_next_run_sends(
    engine: Engine, fake: SendGridFake, waiting: Waiting
) -> None:
    settings = waiting(fake.url, 1, workers=1, max_retries=2)
    fake.fail_next(503, times=3)
    sleeps: list[float] = []
    counts = _run(engine, settings, sleeps)
    assert (counts.sent, counts.retry) == (0, 1)
    assert_backoff(sleeps, [0.5, 1.0])  # jittered exponential backoff between the three attempts
    (msg,) = _states(engine).values()
    assert msg.state == "pending" and msg.lease_owner is None and msg.last_error_code == "http_503"
    again = _run(engine, settings)
    assert again.sent == 1
    assert len(fake.accepted) == 1 and len(fake.snapshot()) == 4


def test_provider_down_stops_the_run_early_instead_of_retrying_every_message(
    engine: Engine, fake: SendGridFake, waiting: Waiting
) -> None:
    settings = waiting(fake.url, 60, workers=2, max_retries=0)
    fake.fail_next(500, times=1000)
    counts = _run(engine, settings, chunk_size=4, max_consecutive_retries=6)
    assert counts.provider_unavailable and counts.sent == 0
    assert len(fake.snapshot()) < 20
    assert {m.state for m in _states(engine).values()} == {"pending"}


def test_two_concurrent_send_runs_never_send_the_same_message_twice(
    engine: Engine, fake: SendGridFake, waiting: Waiting
) -> None:
    fake.latency_s = 0.002
    settings = waiting(fake.url, 150, workers=3)
    start = threading.Barrier(3)
    results: list[object] = []

    def run() -> None:
        start.wait()
        results.append(_run(engine, settings, chunk_size=5))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent_ids = fake.accepted_message_ids()
    assert [pid for pid, n in Counter(sent_ids).items() if n > 1] == []
    states = _states(engine)
    assert len(sent_ids) == 150 and set(sent_ids) == set(states)
    assert all(m.state == "accepted" and m.attempts == 1 for m in states.values())
    assert sum(r.sent for r in results) == 150  # type: ignore[attr-defined]


def test_a_read_timeout_ends_unknown_is_never_resent_and_the_operator_decides(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake, waiting: Waiting
) -> None:
    with SilentHTTPServer() as silent:
        settings = waiting(silent.url, 1, workers=1, timeout_s=0.3)
        sleeps: list[float] = []
        counts = _run(engine, settings, sleeps)
        assert (counts.sent, counts.retry, counts.unknown) == (0, 0, 1)
        assert sleeps == [], "an ambiguous send is not retried"
        (msg,) = _states(engine).values()
        assert msg.state == "unknown" and msg.last_error_code == "read_timeout"
        assert msg.lease_owner is None and msg.attempts == 1
        assert "may have accepted it" in (msg.last_error or "")
        again = _run(engine, settings)  # the next run leaves it alone
        assert again.claimed == 0
        received = silent.received
    assert [_junkan_id(r) for r in received] == [msg.public_id], "exactly one request reached the provider"

    with session_scope(engine) as s:
        assert [m.public_id for m in list_messages(s, states=["unknown"])] == [msg.public_id]
        resolve(s, msg.public_id, "resend")  # the operator found it missing in the activity feed
    settings = sendgrid_settings(database_url, fake.url, tmp_path, workers=1)
    assert _run(engine, settings).sent == 1
    assert fake.accepted_message_ids() == [msg.public_id]
    assert _states(engine)[msg.public_id].state == "accepted"


def test_a_provider_that_stops_answering_ends_the_run_after_a_pool_of_unknowns(
    engine: Engine, waiting: Waiting
) -> None:
    with SilentHTTPServer() as silent:
        settings = waiting(silent.url, 20, workers=2, timeout_s=0.3)
        counts = _run(engine, settings, chunk_size=20)
        received = {_junkan_id(r) for r in silent.received}
    states = _states(engine)
    unknown = {pid for pid, m in states.items() if m.state == "unknown"}
    assert counts.provider_unavailable and counts.unknown == len(unknown)
    # Each request that reached the provider is `unknown`, and nothing else is.
    assert unknown == received and len(unknown) >= 2
    # Stopped after a pool's worth (the two that had already started may be added): the rest never left.
    rest = [m for pid, m in states.items() if pid not in unknown]
    assert len(rest) >= 10
    assert all(m.state == "pending" and m.attempts == 0 and m.lease_owner is None for m in rest)


def test_a_connect_timeout_is_retried_and_leaves_the_message_pending(
    engine: Engine, waiting: Waiting
) -> None:
    with never_accepting_port() as port:
        settings = waiting(f"http://127.0.0.1:{port}", 1, workers=1, max_retries=1, timeout_s=0.3)
        sleeps: list[float] = []
        counts = _run(engine, settings, sleeps)
    assert (counts.sent, counts.retry, counts.unknown) == (0, 1, 0)
    assert_backoff(sleeps, [0.5])
    (msg,) = _states(engine).values()
    assert msg.state == "pending" and msg.last_error_code == "connect_error" and msg.lease_owner is None
    assert "timed out" in (msg.last_error or "")
