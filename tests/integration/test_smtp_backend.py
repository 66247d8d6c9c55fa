"""The SMTP backend against a real aiosmtpd server: plain, STARTTLS and implicit TLS with a self-signed CA."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from junkan.config import Settings
from junkan.mail.backends import build_backend
from junkan.mail.backends.base import Retrying
from junkan.mail.backends.smtp import SmtpBackend, SmtpRelay, _TrackedSMTP
from junkan.mail.sender_identity import SenderHeaders
from tests.fakes._common import FakeClock
from tests.integration._smtp_relay import (
    PASSWORD,
    USER,
    Recorder,
    SilentAfter,
    free_port,
    make_tls_files,
    parsed,
    relay,
)
from tests.mail_support import SENDER, UNSUB, assert_backoff, notice_mail, retries


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def plain_server(recorder: Recorder) -> Iterator[Controller]:
    with relay(recorder) as controller:
        yield controller


@pytest.fixture
def starttls_server(recorder: Recorder, tls_files: tuple[Path, Path]) -> Iterator[Controller]:
    with relay(recorder, "starttls", tls_files) as controller:
        yield controller


@pytest.fixture
def ssl_server(recorder: Recorder, tls_files: tuple[Path, Path]) -> Iterator[Controller]:
    with relay(recorder, "ssl", tls_files) as controller:
        yield controller


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def backend_for(
    controller: Controller, clock: FakeClock, *, max_retries: int = 2, **relay: Any
) -> SmtpBackend:
    """A backend for `controller`'s relay (plain, 5 s timeout unless `relay` says otherwise), waiting on
    `clock`."""
    settings: dict[str, Any] = {"security": "none", "timeout_s": 5.0, **relay}
    return SmtpBackend(SmtpRelay(controller.hostname, controller.port, **settings), SENDER,
                       retrying=Retrying(retries(max_retries), sleep=clock.sleep))


def test_plain_smtp_delivers_a_proper_japanese_message(
    plain_server: Controller, recorder: Recorder, clock: FakeClock
) -> None:
    mail = notice_mail()
    backend = backend_for(plain_server, clock)
    result = backend.send(mail, dry_run=False)
    backend.close()
    assert result.status == "accepted"
    assert result.provider_message_id == "<junkan.msg_0001@junkan.example>"
    [got] = recorder.messages
    assert got.mail_from == "recruit@junkan.example"
    assert got.rcpt_tos == ["taro.yamada@example.com"]
    assert got.content.isascii(), "7-bit clean on the wire: encoded headers, base64 bodies"
    msg = parsed(got)
    assert msg["Subject"] == mail.subject
    assert msg["To"].addresses[0].display_name == "山田 太郎"
    assert msg["Message-ID"] == "<junkan.msg_0001@junkan.example>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith(f"<{UNSUB}>")
    plain, html = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content().replace("\r\n", "\n") == mail.text
    assert "https://junkan.example/r/tok" in html.get_content()


def test_starttls_with_login_over_a_verified_certificate(
    starttls_server: Controller, recorder: Recorder, tls_files: tuple[Path, Path], clock: FakeClock
) -> None:
    backend = backend_for(
        starttls_server, clock, security="starttls", username=USER, password=PASSWORD, ca_file=tls_files[0]
    )
    results = [backend.send(notice_mail(f"m{i}"), dry_run=False) for i in range(3)]
    backend.close()
    assert [r.status for r in results] == ["accepted"] * 3
    assert all(m.tls and m.authenticated for m in recorder.messages)
    # One connection (one handshake, one login) serves all three mails.
    assert len({m.peer for m in recorder.messages}) == 1


def test_implicit_tls(
    ssl_server: Controller, recorder: Recorder, tls_files: tuple[Path, Path], clock: FakeClock
) -> None:
    backend = backend_for(
        ssl_server, clock, security="ssl", username=USER, password=PASSWORD, ca_file=tls_files[0]
    )
    assert backend.send(notice_mail(), dry_run=False).status == "accepted"
    backend.close()
    assert recorder.messages[0].tls and recorder.messages[0].authenticated


def test_wrong_password_is_fatal(
    starttls_server: Controller, recorder: Recorder, tls_files: tuple[Path, Path], clock: FakeClock
) -> None:
    backend = backend_for(
        starttls_server, clock, security="starttls", username=USER, password="nope", ca_file=tls_files[0]
    )
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and "SMTPAuthenticationError" in (result.error or "")
    assert recorder.messages == [] and clock.sleeps == []


def test_an_untrusted_certificate_is_fatal(starttls_server: Controller, clock: FakeClock) -> None:
    backend = backend_for(starttls_server, clock, security="starttls", username=USER, password=PASSWORD)
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and "CERTIFICATE_VERIFY_FAILED" in (result.error or "")


def test_a_server_without_starttls_is_fatal_when_tls_is_required(
    plain_server: Controller, clock: FakeClock
) -> None:
    result = backend_for(plain_server, clock, security="starttls").send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and "STARTTLS" in (result.error or "")


def test_a_refused_recipient_fails_the_message_without_leaking_the_address(
    plain_server: Controller, recorder: Recorder, clock: FakeClock
) -> None:
    recorder.rcpt_replies.append("550 5.1.1 <taro.yamada@example.com>: Recipient address rejected")
    backend = backend_for(plain_server, clock)
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "failed"
    assert result.error == "SMTP 550: 5.1.1 <<redacted>>: Recipient address rejected"
    # The connection stays usable for the next mail.
    assert backend.send(notice_mail("m2"), dry_run=False).status == "accepted"
    assert len(recorder.messages) == 1


def test_a_temporary_refusal_is_retried_with_backoff(
    plain_server: Controller, recorder: Recorder, clock: FakeClock
) -> None:
    recorder.rcpt_replies.extend(["451 4.7.1 try again later"] * 2)
    result = backend_for(plain_server, clock, max_retries=3).send(notice_mail(), dry_run=False)
    assert result.status == "accepted" and result.attempts == 3
    assert_backoff(clock.sleeps, [1.0, 2.0])
    recorder.rcpt_replies.extend(["451 4.7.1 try again later"] * 5)
    result = backend_for(plain_server, clock, max_retries=1).send(notice_mail("m2"), dry_run=False)
    assert result.status == "retry" and result.error == "SMTP 451: 4.7.1 try again later"


def test_an_unreachable_server_leaves_the_message_for_the_next_run(clock: FakeClock) -> None:
    backend = SmtpBackend(
        SmtpRelay("127.0.0.1", free_port(), security="none", timeout_s=2.0),
        SenderHeaders("r@junkan.example"),
        retrying=Retrying(retries(2), sleep=clock.sleep),
    )
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "retry" and result.attempts == 3
    assert_backoff(clock.sleeps, [1.0, 2.0])


def test_a_dropped_idle_connection_is_reopened(
    plain_server: Controller, recorder: Recorder, clock: FakeClock
) -> None:
    backend = backend_for(plain_server, clock)
    assert backend.send(notice_mail("m1"), dry_run=False).status == "accepted"
    backend._local.conn.sock.shutdown(socket.SHUT_RDWR)  # the relay's idle timeout, as seen from our side
    assert backend.send(notice_mail("m2"), dry_run=False).status == "accepted"
    assert clock.sleeps == []
    assert recorder.messages[0].peer != recorder.messages[1].peer


def test_dry_run_builds_but_never_connects(clock: FakeClock) -> None:
    backend = SmtpBackend(SmtpRelay("127.0.0.1", free_port(), security="none"),
                          SenderHeaders("r@junkan.example"), retrying=Retrying(sleep=clock.sleep))
    result = backend.send(notice_mail(), dry_run=True)
    assert result.status == "accepted" and result.provider_message_id is None


def test_workers_share_nothing_but_reuse_their_own_connection(
    plain_server: Controller, recorder: Recorder, clock: FakeClock
) -> None:
    backend = backend_for(plain_server, clock)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: backend.send(notice_mail(f"m{i:02d}"), dry_run=False), range(40)))
    backend.close()
    assert {r.status for r in results} == {"accepted"}
    ids = sorted(parsed(m)["Message-ID"] for m in recorder.messages)
    assert ids == sorted(f"<junkan.m{i:02d}@junkan.example>" for i in range(40))
    assert len({m.peer for m in recorder.messages}) <= 4


def test_build_backend_reads_the_smtp_settings(
    starttls_server: Controller, recorder: Recorder, tls_files: tuple[Path, Path]
) -> None:
    settings = Settings(
        mail={  # type: ignore[arg-type]
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": starttls_server.port,
            "smtp_security": "starttls",
            "smtp_username": USER,
            "smtp_password": PASSWORD,
            "smtp_ca_file": tls_files[0],
            "from_email": "recruit@junkan.example",
        }
    )
    backend = build_backend(settings)
    assert isinstance(backend, SmtpBackend) and PASSWORD not in repr(backend)
    assert backend.send(notice_mail(), dry_run=False).status == "accepted"
    backend.close()
    assert recorder.messages[0].authenticated


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_no_reply_after_the_data_is_unknown_and_never_resent(
    security: str, tls_files: tuple[Path, Path], clock: FakeClock
) -> None:
    # The relay has the whole message and may queue it; SMTP has no idempotency key, so no second try.
    handler = SilentAfter(stall_at="DATA")
    with relay(handler, "ssl" if security == "ssl" else "plain", tls_files) as controller:
        client_tls = {"ca_file": tls_files[0]} if security == "ssl" else {}
        backend = backend_for(controller, clock, security=security, timeout_s=0.5, max_retries=3,
                              **client_tls)
        result = backend.send(notice_mail("m_silent"), dry_run=False)
        backend.close()
    assert result.status == "unknown" and result.code == "no_reply_after_data" and result.attempts == 1
    assert "may have been queued" in (result.error or "")
    assert clock.sleeps == []
    [got] = handler.messages
    assert parsed(got)["Message-ID"] == "<junkan.m_silent@junkan.example>"


def test_a_stall_before_the_data_is_retried_because_nothing_was_handed_over(clock: FakeClock) -> None:
    handler = SilentAfter(stall_at="RCPT")
    with relay(handler) as controller:
        backend = backend_for(controller, clock, timeout_s=0.5, max_retries=1)
        result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "retry" and result.attempts == 2
    assert_backoff(clock.sleeps, [1.0])
    assert handler.messages == []


def test_our_data_phase_dot_stuffs_like_smtplib(plain_server: Controller, recorder: Recorder) -> None:
    # The backend's connections replace SMTP.data to note when the message went out; the wire format
    # (dot-stuffing, final CRLF) must stay the stdlib's.
    raw = b"Subject: dots\r\n\r\n.\r\n.leading dot\r\n..two\r\nno final newline"
    conn = _TrackedSMTP(plain_server.hostname, plain_server.port, timeout=5)
    try:
        assert not conn.data_sent
        conn.sendmail("r@junkan.example", ["to@example.com"], raw)
        assert conn.data_sent
    finally:
        conn.quit()
    [got] = recorder.messages
    assert got.content == raw + b"\r\n"  # unstuffed again by the server; the missing CRLF added
