"""The SendGrid backend with the real `sendgrid` client against a local SendGrid fake (HTTP, 127.0.0.1)."""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from junkan.config import Settings
from junkan.http import RetryPolicy
from junkan.mail.backends import BackendConfigError, build_backend
from junkan.mail.backends.base import Retrying
from junkan.mail.backends.sendgrid import SendGridBackend
from junkan.mail.sender_identity import SenderHeaders
from tests.fakes._common import FakeClock
from tests.fakes.sendgrid import Reply, SendGridFake, errors_body, schema_errors
from tests.fakes.silent_http import SilentHTTPServer, never_accepting_port
from tests.mail_support import SENDER, UNSUB, assert_backoff, notice_mail, retries

KEY = "SG.test-key-123"


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(KEY, validate_schema=True) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


#: The retries of `make_backend`: few, and short waits, so the backoff schedule shows in a few sleeps.
RETRY = retries(3, backoff_base_s=1.0, backoff_max_s=8.0, max_wait_s=60.0)


def make_backend(fake: SendGridFake, clock: FakeClock, *, retry: RetryPolicy = RETRY,
                 rng: random.Random | None = None, **overrides: object) -> SendGridBackend:
    values: dict[str, object] = {
        "sender": SENDER,
        "host": fake.url,
        "asm_group_id": 321,
        "rate_limit_retries": 3,
        "timeout_s": 5.0,
        "clock": clock,
    }
    values.update(overrides)
    waits = Retrying(retry, sleep=clock.sleep, rng=rng or random.Random())
    return SendGridBackend(KEY, retrying=waits, **values)  # type: ignore[arg-type]


def make_backend_for(host: str, clock: FakeClock, *, max_retries: int = 3) -> SendGridBackend:
    return SendGridBackend(KEY, SenderHeaders("r@junkan.example"), host=host, timeout_s=0.3, clock=clock,
                           retrying=Retrying(retries(max_retries), sleep=clock.sleep))


# -- the request -----------------------------------------------------------------------------------
def test_accepted_send_and_the_request_body(fake: SendGridFake, clock: FakeClock) -> None:
    mail = notice_mail()
    result = make_backend(fake, clock).send(mail, dry_run=False)

    assert len(fake.received) == 1
    req = fake.received[0]
    assert result.status == "accepted" and result.attempts == 1
    assert result.provider_message_id == req.message_id and len(req.message_id or "") == 22
    assert req.method == "POST" and req.path == "/v3/mail/send"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["content-type"] == "application/json"

    body = req.body
    assert schema_errors(body) == []
    assert body["from"] == {"email": "recruit@junkan.example", "name": "株式会社サンプル 採用担当"}
    assert len(body["personalizations"]) == 1
    pers = body["personalizations"][0]
    assert pers["to"] == [{"email": "taro.yamada@example.com", "name": "山田 太郎"}]
    assert pers["subject"] == mail.subject == "【株式会社サンプル】選考結果のご連絡（営業職）"
    # Only the opaque id travels as custom_args: it comes back on webhook events, nothing personal.
    assert pers["custom_args"] == {"junkan_message_id": "msg_0001"}
    assert "custom_args" not in body
    assert body["content"] == [
        {"type": "text/plain", "value": mail.text},
        {"type": "text/html", "value": mail.html},
    ]
    assert body["categories"] == ["rejection", "ja/rejection"]
    assert body["headers"] == {
        # The request's time in the notice time zone: clients show 23:13 JST, not 14:13 UTC.
        "Date": format_datetime(datetime.fromtimestamp(clock(), ZoneInfo("Asia/Tokyo"))),
        "List-Unsubscribe": f"<{UNSUB}>, <mailto:privacy@junkan.example?subject=unsubscribe%20msg_0001>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert body["headers"]["Date"].endswith("+0900")
    assert "reply_to" not in body
    assert body["asm"] == {"group_id": 321}
    assert "mail_settings" not in body
    assert body["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}
    # Japanese survives the trip intact.
    assert "ご期待に沿いかねる結果" in body["content"][0]["value"]


def test_reply_to_names_the_same_desk_as_from(fake: SendGridFake, clock: FakeClock) -> None:
    backend = make_backend(fake, clock, sender=replace(SENDER, reply_to="saiyo@junkan.example"))
    backend.send(notice_mail(), dry_run=False)
    body = fake.received[0].body
    assert body["reply_to"] == {"email": "saiyo@junkan.example", "name": "株式会社サンプル 採用担当"}
    assert schema_errors(body) == []


def test_nothing_personal_outside_the_recipient_and_the_content(fake: SendGridFake, clock: FakeClock) -> None:
    make_backend(fake, clock).send(notice_mail(), dry_run=False)
    body = dict(fake.received[0].body)
    for key in ("personalizations", "content"):
        body.pop(key)
    flat = repr(body)
    assert "taro" not in flat and "山田" not in flat


def test_transactional_notice_skips_the_unsubscribe_group(fake: SendGridFake, clock: FakeClock) -> None:
    mail = notice_mail(partner=False)
    assert mail.advertising is False
    make_backend(fake, clock).send(mail, dry_run=False)
    body = fake.received[0].body
    assert "asm" not in body
    assert "キャリアリレー" not in body["content"][0]["value"]
    make_backend(fake, clock, asm_group_id=None).send(notice_mail(), dry_run=False)
    assert "asm" not in fake.received[1].body


def test_no_unsubscribe_headers_without_a_url_and_no_name_when_unknown(
    fake: SendGridFake, clock: FakeClock
) -> None:
    make_backend(fake, clock).send(
        notice_mail(partner=False, unsubscribe_url=None, to_name=None), dry_run=False
    )
    body = fake.received[0].body
    assert list(body["headers"]) == ["Date"]
    assert body["personalizations"][0]["to"] == [{"email": "taro.yamada@example.com"}]
    assert schema_errors(body) == []


def test_crlf_in_subject_and_name_never_reaches_the_request(fake: SendGridFake, clock: FakeClock) -> None:
    mail = notice_mail(subject="結果\r\nBcc: evil@example.com", to_name="山田\r\nX-Evil: 1")
    make_backend(fake, clock).send(mail, dry_run=False)
    pers = fake.received[0].body["personalizations"][0]
    assert pers["subject"] == "結果 Bcc: evil@example.com"
    assert pers["to"][0]["name"] == "山田 X-Evil: 1"


def test_dry_run_uses_sandbox_mode(fake: SendGridFake, clock: FakeClock) -> None:
    result = make_backend(fake, clock).send(notice_mail(), dry_run=True)
    req = fake.received[0]
    assert req.body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert schema_errors(req.body) == []
    assert req.status == 200 and req.sandbox
    assert result.status == "accepted" and result.provider_message_id is None
    assert fake.accepted == []


# -- provider answers ------------------------------------------------------------------------------
def test_429_waits_until_the_rate_limit_reset_then_retries(fake: SendGridFake, clock: FakeClock) -> None:
    fake.rate_limit_next(clock() + 7)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "accepted" and result.attempts == 2
    assert clock.sleeps == [7.0]
    assert [r.status for r in fake.received] == [429, 202]


def test_429_wait_is_bounded_and_retries_are_capped(fake: SendGridFake, clock: FakeClock) -> None:
    fake.rate_limit_next(clock() + 3600, times=10)
    result = make_backend(fake, clock, retry=replace(RETRY, max_wait_s=30.0), rate_limit_retries=3).send(
        notice_mail(), dry_run=False
    )
    assert result.status == "retry"
    assert result.error is not None and result.error.startswith("HTTP 429")
    assert result.attempts == 4
    assert clock.sleeps == [30.0, 30.0, 30.0]


def test_429_without_a_reset_header_backs_off(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(429)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "accepted"
    assert_backoff(clock.sleeps, [1.0])


def test_a_429_holds_back_the_following_sends_too(fake: SendGridFake, clock: FakeClock) -> None:
    backend = make_backend(fake, clock, rate_limit_retries=0)
    fake.rate_limit_next(clock() + 5)
    assert backend.send(notice_mail("m1"), dry_run=False).status == "retry"
    assert clock.sleeps == []
    assert backend.send(notice_mail("m2"), dry_run=False).status == "accepted"
    assert clock.sleeps == [5.0], "the next send waited for the reset instead of hammering the API"


def test_5xx_is_retried_with_jittered_exponential_backoff(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(500)
    fake.fail_next(503)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "accepted" and result.attempts == 3
    assert_backoff(clock.sleeps, [1.0, 2.0])
    assert len(fake.accepted) == 1


def test_sends_that_fail_alike_do_not_wait_alike(fake: SendGridFake, clock: FakeClock) -> None:
    # Without jitter the 8 workers of a run, failing together, would also retry together.
    backend = make_backend(fake, clock, rng=random.Random(20261201))
    for i in range(8):
        fake.fail_next(503)
        assert backend.send(notice_mail(f"m{i}"), dry_run=False).status == "accepted"
    assert_backoff(clock.sleeps, [1.0] * 8)
    assert len(set(clock.sleeps)) == 8


def test_persistent_5xx_gives_up_with_retry_status(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(502, times=10)
    result = make_backend(fake, clock, retry=replace(RETRY, max_retries=4)).send(notice_mail(), dry_run=False)
    assert result.status == "retry"
    assert result.error == "HTTP 502: bad gateway"
    assert result.attempts == 5
    assert_backoff(clock.sleeps, [1.0, 2.0, 4.0, 8.0])  # capped at backoff_max_s
    assert fake.accepted == []


def test_a_read_timeout_after_the_request_went_out_is_unknown_and_never_retried(clock: FakeClock) -> None:
    # The server got the whole request and may have accepted it; a retry could mail the candidate twice.
    with SilentHTTPServer() as silent:
        result = make_backend_for(silent.url, clock).send(notice_mail("msg_silent"), dry_run=False)
        received = silent.received
    assert result.status == "unknown" and result.code == "read_timeout" and result.attempts == 1
    assert len(received) == 1, "exactly one request reached the server"
    assert received[0].json["personalizations"][0]["custom_args"] == {"junkan_message_id": "msg_silent"}
    assert clock.sleeps == []
    assert "may have accepted it" in (result.error or "") and "TimeoutError" in (result.error or "")


def test_a_connection_dropped_after_the_request_is_unknown(clock: FakeClock) -> None:
    with SilentHTTPServer(hang_up=True) as server:
        result = make_backend_for(server.url, clock).send(notice_mail(), dry_run=False)
        received = server.received
    assert result.status == "unknown" and result.code == "connection_lost" and result.attempts == 1
    assert len(received) == 1 and clock.sleeps == []


def test_an_unreadable_answer_is_unknown_never_a_refusal_to_retry_later(
    fake: SendGridFake, clock: FakeClock
) -> None:
    # A 202 whose chunked body is garbage: SendGrid may well have taken the mail, so it must not go
    # back to pending as a refusal would.
    garbled = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    fake.responder = lambda req: Reply(202, raw=garbled)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "unknown" and result.code == "no_answer" and result.attempts == 1
    assert len(fake.received) == 1 and clock.sleeps == []


def test_a_slow_fake_answer_past_the_timeout_is_unknown_not_retried(clock: FakeClock) -> None:
    with SendGridFake(KEY, latency_s=1.0) as slow:
        backend = make_backend(slow, clock, timeout_s=0.05)
        result = backend.send(notice_mail(), dry_run=False)
    # The fake answers 202 a moment later: a retry here would have been a second, real send.
    assert result.status == "unknown" and result.code == "read_timeout" and result.attempts == 1
    assert clock.sleeps == []


def test_a_connect_timeout_is_retried_then_left_pending(clock: FakeClock) -> None:
    # Nothing can have been sent when the TCP connection never opened.
    with never_accepting_port() as port:
        result = make_backend_for(f"http://127.0.0.1:{port}", clock, max_retries=2).send(
            notice_mail(), dry_run=False
        )
    assert result.status == "retry" and result.code == "connect_error" and result.attempts == 3
    assert "timed out" in (result.error or "")
    assert_backoff(clock.sleeps, [1.0, 2.0])


def test_unreachable_host_is_retried_then_left_pending(clock: FakeClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = make_backend_for(f"http://127.0.0.1:{port}", clock, max_retries=2).send(
        notice_mail(), dry_run=False
    )
    assert result.status == "retry" and result.attempts == 3 and result.code == "connect_error"
    assert "ConnectionRefusedError" in (result.error or "")
    assert_backoff(clock.sleeps, [1.0, 2.0])


def test_400_fails_the_message_with_sendgrids_messages(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(
        400,
        body=errors_body(
            (
                "The to email does not contain a valid address: taro.yamada@example.com",
                "personalizations.0.to",
            ),
            ("Another problem.", None),
        ),
    )
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "failed" and result.attempts == 1
    assert result.error == (
        "HTTP 400: personalizations.0.to: The to email does not contain a valid address: "
        "<redacted>; Another problem."
    )
    assert clock.sleeps == []


def test_413_fails_the_message(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(413)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "failed" and result.error == "HTTP 413: content too large"


def test_a_bad_key_is_fatal(fake: SendGridFake, clock: FakeClock) -> None:
    backend = SendGridBackend("SG.wrong", SenderHeaders("r@junkan.example"), host=fake.url,
                              retrying=Retrying(sleep=clock.sleep))
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and (result.error or "").startswith("HTTP 401")
    assert fake.received[0].status == 401
    assert clock.sleeps == []


def test_403_is_fatal(fake: SendGridFake, clock: FakeClock) -> None:
    fake.fail_next(403)
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and result.error == "HTTP 403: access forbidden"


def test_a_400_about_our_sender_settings_is_fatal_not_the_messages_fault(
    fake: SendGridFake, clock: FakeClock
) -> None:
    # Every message carries the same `from`: refusing it refuses them all.
    fake.fail_next(400, body=errors_body(("The from address does not match a verified Sender Identity.",
                                          "from.email")))
    result = make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and result.attempts == 1
    assert result.error == "HTTP 400: from.email: The from address does not match a verified Sender Identity."
    # A field error about the message itself stays the message's failure, also next to one about us.
    fake.fail_next(400, body=errors_body(("Does not contain a valid address.", "personalizations.0.to"),
                                         ("Invalid from.", "from")))
    assert make_backend(fake, clock).send(notice_mail(), dry_run=False).status == "failed"


def test_tls_spoken_to_a_plain_port_is_fatal_and_not_retried(fake: SendGridFake, clock: FakeClock) -> None:
    backend = make_backend_for(fake.url.replace("http://", "https://"), clock)
    result = backend.send(notice_mail(), dry_run=False)
    assert result.status == "fatal" and result.code == "tls_error" and result.attempts == 1
    assert "SSL" in (result.error or "")
    assert clock.sleeps == [] and fake.accepted == []


@pytest.mark.parametrize("host", ["api.sendgrid.com", "ftp://api.sendgrid.com", "http://127.0.0.1:99999",
                                  "https://"])
def test_a_host_setting_that_is_no_http_url_is_refused_when_built(host: str) -> None:
    with pytest.raises(BackendConfigError, match="JUNKAN_MAIL__SENDGRID_HOST"):
        SendGridBackend(KEY, SenderHeaders("r@junkan.example"), host=host)


def test_a_request_the_contract_rejects_fails(fake: SendGridFake, clock: FakeClock) -> None:
    # The fake holds requests to the spec: 11 categories are one too many.
    fake.responder = None
    backend = make_backend(fake, clock)
    body = backend.build_request(notice_mail(), dry_run=False)
    body["categories"] = [f"c{i}" for i in range(11)]
    assert schema_errors(body)
    assert schema_errors({"personalizations": [{"to": [{"email": "a@b.example"}]}]})  # no from
    fake.responder = lambda req: Reply(400, body=errors_body(("scripted", None)))
    assert backend.send(notice_mail(), dry_run=False).status == "failed"


# -- concurrency and configuration -----------------------------------------------------------------
def test_eight_workers_send_each_message_exactly_once(fake: SendGridFake, clock: FakeClock) -> None:
    backend = make_backend(fake, clock)
    mails = [notice_mail(f"msg_{i:04d}") for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda m: backend.send(m, dry_run=False), mails))
    backend.close()
    assert {r.status for r in results} == {"accepted"}
    assert sorted(fake.accepted_message_ids()) == sorted(m.message_id for m in mails)  # type: ignore[type-var]
    provider_ids = [r.provider_message_id for r in results]
    assert len(set(provider_ids)) == 200
    # Each result carries the id SendGrid gave to that very message.
    by_message = {r.junkan_message_id: r.message_id for r in fake.accepted}
    assert all(by_message[m.message_id] == r.provider_message_id for m, r in zip(mails, results, strict=True))


def test_build_backend_from_settings(fake: SendGridFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "sendgrid")
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_HOST", fake.url)
    monkeypatch.setenv("JUNKAN_MAIL__ASM_GROUP_ID", "77")
    monkeypatch.setenv("JUNKAN_SENDER__COMPANY_NAME", "株式会社ジュンカン商事")
    monkeypatch.setenv("JUNKAN_MAIL__REPLY_TO", "saiyo@junkan.example")
    sleeps: list[float] = []
    backend = build_backend(Settings(), sleep=sleeps.append)
    assert isinstance(backend, SendGridBackend)
    assert KEY not in repr(backend)
    fake.fail_next(500)
    assert backend.send(notice_mail(), dry_run=False).status == "accepted"
    assert_backoff(sleeps, [1.0])
    body = fake.received[-1].body
    assert body["asm"] == {"group_id": 77}
    # The From line carries the company and the desk; replies reach the desk's mailbox.
    assert body["from"] == {"email": Settings().mail.from_email, "name": "株式会社ジュンカン商事 採用担当"}
    assert body["reply_to"] == {"email": "saiyo@junkan.example", "name": "株式会社ジュンカン商事 採用担当"}
    assert body["headers"]["Date"].endswith("+0900")
    # The mailto alternative defaults to the sender's contact address.
    assert f"mailto:{Settings().sender.contact_email}" in body["headers"]["List-Unsubscribe"]


def test_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "sendgrid")
    monkeypatch.delenv("JUNKAN_MAIL__SENDGRID_API_KEY", raising=False)
    with pytest.raises(BackendConfigError, match="SENDGRID_API_KEY"):
        build_backend(Settings())


def test_the_http_library_never_logs_personal_data(
    fake: SendGridFake, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        make_backend(fake, clock).send(notice_mail(), dry_run=False)
    assert "taro.yamada@example.com" not in caplog.text
    assert "山田" not in caplog.text
