"""The sender identity on the wire: a live send with the shipped samples is refused before anything is
claimed, and a real one shows the company in From, the desk's Reply-To, a JST Date and the recruiting
desk in the signature, on the SendGrid fake and on an aiosmtpd relay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.mail.backends import build_backend
from junkan.mail.identity_guard import SampleIdentityError
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.sender import OutboxSender
from tests.fakes.sendgrid import SendGridFake
from tests.integration._outbox_data import SEND_NOW, add_application
from tests.integration._smtp_relay import Recorder, relay
from tests.mail_support import LIVE_SENDER, live_identity, shown_address, shown_headers

API_KEY = "SG.identity-test"
DESK = "株式会社ジュンカン商事 採用担当"


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(API_KEY, validate_schema=True) as server:
        yield server


def _sendgrid(database_url: str, fake: SendGridFake, tmp: Path, *, live: bool) -> Settings:
    mail = {"backend": "sendgrid", "sendgrid_api_key": API_KEY, "sendgrid_host": fake.url,
            "outbox_dir": tmp / "outbox", "reply_to": "saiyo-reply@junkan.example"}
    values = live_identity(mail) if live else {"mail": mail}
    return Settings(database_url=database_url, **values, _env_file=None)  # type: ignore[arg-type, call-arg]


def _smtp(database_url: str, port: int, tmp: Path, *, live: bool) -> Settings:
    mail = {"backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
            "outbox_dir": tmp / "outbox", "reply_to": "saiyo-reply@junkan.example"}
    values = live_identity(mail) if live else {"mail": mail}
    return Settings(database_url=database_url, **values, _env_file=None)  # type: ignore[arg-type, call-arg]


def _seed(engine: Engine, settings: Settings, n: int = 3) -> None:
    with session_scope(engine) as s:
        for i in range(n):
            add_application(s, partner_consent=i == 0)
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, SEND_NOW)


def _send(engine: Engine, settings: Settings) -> None:
    backend = build_backend(settings, sleep=lambda _s: None)
    OutboxSender(engine, settings, backend=backend, now=SEND_NOW).run()


def _messages(engine: Engine) -> list[Message]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Message)))


def test_sendgrid_with_the_samples_is_refused_and_nothing_is_claimed(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = _sendgrid(database_url, fake, tmp_path, live=False)
    _seed(engine, settings)
    with pytest.raises(SampleIdentityError) as caught:
        _send(engine, settings)
    assert "JUNKAN_SENDER__COMPANY_NAME is still the shipped sample" in str(caught.value)
    assert "JUNKAN_LINKS__PUBLIC_BASE_URL is still the shipped sample" in str(caught.value)
    assert fake.received == []
    messages = _messages(engine)
    assert len(messages) == 3
    assert all((m.state, m.attempts, m.lease_owner, m.sending_at) == ("pending", 0, None, None)
               for m in messages)

    # A dry run delivers nothing, so it is not refused: the operator can look at the mails first.
    counts = OutboxSender(engine, settings, backend=build_backend(settings), now=SEND_NOW).run(dry_run=True)
    assert counts.previewed == 3
    assert {m.state for m in _messages(engine)} == {"pending"}


def _via_relay(engine: Engine, database_url: str, tmp: Path, recorder: Recorder, *, live: bool,
               n: int) -> None:
    with relay(recorder) as controller:
        settings = _smtp(database_url, controller.port, tmp, live=live)
        _seed(engine, settings, n)
        _send(engine, settings)


def test_smtp_with_the_samples_is_refused_and_the_relay_gets_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    recorder = Recorder()
    with pytest.raises(SampleIdentityError, match="JUNKAN_LINKS__SECRET is still the shipped sample"):
        _via_relay(engine, database_url, tmp_path, recorder, live=False, n=3)
    assert recorder.messages == []
    assert {(m.state, m.attempts) for m in _messages(engine)} == {("pending", 0)}


def test_sendgrid_shows_the_company_desk_reply_to_and_a_jst_date(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = _sendgrid(database_url, fake, tmp_path, live=True)
    _seed(engine, settings, n=1)
    _send(engine, settings)
    (req,) = fake.accepted
    body = req.body
    assert body["from"] == {"email": "recruit@junkan.example", "name": DESK}
    assert body["reply_to"] == {"email": "saiyo-reply@junkan.example", "name": DESK}
    assert parsedate_to_datetime(body["headers"]["Date"]).utcoffset() == timedelta(hours=9)
    text = body["content"][0]["value"]
    signature, _, footer = text.partition("送信者：")
    # The signature names the recruiting desk; the privacy address appears only in the legal footer.
    assert "メール：saiyo@junkan.example" in signature and "電話：03-1234-5678" in signature
    assert LIVE_SENDER["contact_email"] not in signature
    assert LIVE_SENDER["contact_email"] in footer
    assert "https://junkan.example/u/" in footer


def test_smtp_shows_the_company_desk_reply_to_and_a_jst_date(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    recorder = Recorder()
    _via_relay(engine, database_url, tmp_path, recorder, live=True, n=1)
    (got,) = recorder.messages
    shown = shown_headers(got.content)
    assert shown_address(shown["From"]) == (DESK, "recruit@junkan.example")
    assert shown_address(shown["Reply-To"]) == (DESK, "saiyo-reply@junkan.example")
    assert shown["Date"].endswith("+0900")
    assert got.mail_from == "recruit@junkan.example"
