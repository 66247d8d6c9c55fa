"""The outbox against a real local SMTP relay (aiosmtpd): a refusal of our login or TLS set-up fails no
notice, and the run after the fix sends every one exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.mail.backends import build_backend
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.sender import OutboxSender, SendCounts
from tests.integration._outbox_data import SEND_NOW, add_application
from tests.integration._smtp_relay import PASSWORD, USER, Recorder, make_tls_files, relay
from tests.mail_support import live_identity

N = 24


@pytest.fixture
def starttls_relay(tmp_path: Path) -> Iterator[tuple[Controller, Recorder, Path]]:
    """A relay requiring STARTTLS and a login, what it received, and the CA file that trusts it."""
    recorder = Recorder()
    tls_files = make_tls_files(tmp_path)
    with relay(recorder, "starttls", tls_files) as controller:
        yield controller, recorder, tls_files[0]


def smtp_settings(database_url: str, port: int, tmp: Path, **mail: object) -> Settings:
    values: dict[str, object] = {
        "backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "starttls",
        "smtp_username": USER, "smtp_password": PASSWORD, "from_email": "recruit@junkan.example",
        "workers": 8, "max_retries": 1, "timeout_s": 5.0, "outbox_dir": tmp / "outbox",
    }
    values.update(mail)
    return Settings(database_url=database_url, **live_identity(values), _env_file=None)  # type: ignore[call-arg]


def _run(engine: Engine, settings: Settings) -> SendCounts:
    backend = build_backend(settings, sleep=lambda _s: None)
    return OutboxSender(engine, settings, backend=backend, now=SEND_NOW).run()


def _messages(engine: Engine) -> dict[str, Message]:
    with session_scope(engine) as s:
        return {m.public_id: m for m in s.scalars(select(Message))}


@pytest.mark.parametrize(
    ("fault", "broken", "error_says"),
    [
        ("wrong password (535)", {"smtp_password": "nope"}, "SMTPAuthenticationError"),
        ("no login where one is required (530)", {"smtp_username": None, "smtp_password": None}, "530"),
        ("untrusted certificate", {"smtp_ca_file": None}, "CERTIFICATE_VERIFY_FAILED"),
    ],
)
def test_a_relay_refusing_us_fails_no_notice_and_the_run_after_the_fix_sends_each_once(
    engine: Engine, database_url: str, tmp_path: Path, starttls_relay: tuple[Controller, Recorder, Path],
    fault: str, broken: dict[str, object], error_says: str,
) -> None:
    controller, recorder, ca_file = starttls_relay
    good = smtp_settings(database_url, controller.port, tmp_path, smtp_ca_file=ca_file)
    with session_scope(engine) as s:
        for _ in range(N):
            add_application(s)
    with session_scope(engine) as s:
        enqueue_due_notices(s, good, SEND_NOW)

    counts = _run(engine, smtp_settings(database_url, controller.port, tmp_path,
                                        **{"smtp_ca_file": ca_file, **broken}))

    assert counts.fatal and (counts.sent, counts.failed) == (0, 0), fault
    messages = _messages(engine)
    assert {m.state for m in messages.values()} == {"pending"}
    assert all(m.lease_owner is None for m in messages.values())
    held = {pid: m for pid, m in messages.items() if m.last_error is not None}
    # Eight workers were on it when the first refusal came back; each refused send is on record.
    assert counts.held == len(held) and 2 <= len(held) < N
    assert all(error_says in (m.last_error or "") and m.attempts == 1 for m in held.values())
    assert all(m.attempts == 0 for pid, m in messages.items() if pid not in held)
    assert recorder.messages == []

    again = _run(engine, good)

    assert (again.sent, again.failed, again.held, again.fatal) == (N, 0, 0, False)
    messages = _messages(engine)
    assert {m.state for m in messages.values()} == {"accepted"}
    delivered = Counter(recorder.message_ids())
    assert set(delivered.values()) == {1}, "every notice reached the relay exactly once"
    assert set(delivered) == {m.provider_message_id for m in messages.values()}


def test_a_relay_without_starttls_fails_no_notice(engine: Engine, database_url: str, tmp_path: Path) -> None:
    recorder = Recorder()
    with relay(recorder) as plain:
        settings = smtp_settings(database_url, plain.port, tmp_path)
        with session_scope(engine) as s:
            for _ in range(N):
                add_application(s)
        with session_scope(engine) as s:
            enqueue_due_notices(s, settings, SEND_NOW)
        counts = _run(engine, settings)
        fixed = _run(engine, smtp_settings(database_url, plain.port, tmp_path, smtp_security="none",
                                           smtp_username=None, smtp_password=None))
    assert counts.fatal and (counts.sent, counts.failed) == (0, 0) and counts.held >= 2
    assert fixed.sent == N
    assert sorted(recorder.message_ids()) == sorted(m.provider_message_id for m in _messages(engine).values())
