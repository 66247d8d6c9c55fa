"""The monthly report mailed to internal recipients through the outbox (docs/kpis.md "Monthly
distribution"), against the SendGrid fake, on both databases: one mail with the PDF per recipient, never
a second one for the same month, no address stored or handed to SendGrid beyond the `to` field, and the
candidate-side code (erasure, export) unbothered by a mail without a candidate."""

from __future__ import annotations

import base64
import email
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.mail.backends import build_backend
from junkan.outbox.report_mail import ReportMailRenderer, enqueue_report_mail, mail_report
from junkan.outbox.sender import OutboxSender
from junkan.privacy.erasure import erase
from junkan.privacy.export import export_person
from tests.fakes.sendgrid import SendGridFake
from tests.integration.test_privacy_erasure import EMAIL, load_hanako
from tests.mail_support import live_identity

API_KEY = "SG.report-mail-test"
BOSS, HR = "keiei@junkan.example", "jinji@junkan.example"
#: Tuesday 1 December 2026, 09:00 JST: the monthly run.
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n% a stand-in for the report\n%%EOF\n"


@pytest.fixture
def fake() -> Iterator[SendGridFake]:
    with SendGridFake(API_KEY) as server:
        server.validate_schema = True
        yield server


def mail_settings(database_url: str, tmp: Path, fake_url: str, recipients: list[str]) -> Settings:
    return Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": API_KEY, "sendgrid_host": fake_url,
                         "max_retries": 0, "outbox_dir": tmp / "outbox"}),
        report={"recipients": recipients, "output_dir": tmp},
        _env_file=None,  # type: ignore[call-arg]
    )


def payload(tmp: Path) -> dict[str, Any]:
    pdf = tmp / "roi-2026-11.pdf"
    pdf.write_bytes(PDF)
    return {"period": "2026-11", "title": "2026年11月", "pdf": str(pdf),
            "cards": [{"label": "フォローアップ率", "value": "92.0%", "change": "+3.0pt"}]}


def send(engine: Engine, settings: Settings, tmp: Path) -> Any:
    return mail_report(engine, settings, RunClock.fixed(NOW), period="2026-11", payload=payload(tmp),
                       backend=build_backend(settings, sleep=lambda _s: None))


def messages(engine: Engine) -> list[Message]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def test_each_recipient_gets_the_pdf_once_and_a_rerun_sends_nothing_more(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = mail_settings(database_url, tmp_path, fake.url, [BOSS, HR])
    first = send(engine, settings, tmp_path)
    assert (first.recipients, first.enqueued, first.sent, first.failed) == (2, 2, 2, 0)

    requests = fake.accepted
    assert sorted(r.body["personalizations"][0]["to"][0]["email"] for r in requests) == [HR, BOSS]
    for r in requests:
        (attachment,) = r.body["attachments"]
        assert (attachment["filename"], attachment["type"]) == ("roi-2026-11.pdf", "application/pdf")
        assert base64.b64decode(attachment["content"]) == PDF
        assert r.body["personalizations"][0]["subject"].endswith("採用 KPI・ROI レポート 2026年11月")
        text = r.body["content"][0]["value"]
        assert "2026年11月の採用 KPI・ROI レポート" in text
        assert "フォローアップ率: 92.0%（前期間比 +3.0pt）" in text
        # Internal mail: no unsubscribe header, no partner link, only our opaque id for SendGrid.
        assert "List-Unsubscribe" not in r.body["headers"] and "/r/" not in text
        assert list(r.body["personalizations"][0]["custom_args"]) == ["junkan_message_id"]
    rows = messages(engine)
    assert [(m.kind, m.candidate_id, m.state) for m in rows] == [("report", None, "accepted")] * 2
    # The address is in no column: the row keeps its keyed hash and the payload.
    stored = " ".join(str(v) for m in rows for v in (m.logical_key, m.payload, m.recipient_hash, m.body_text))
    assert BOSS not in stored and HR not in stored

    again = send(engine, settings, tmp_path)
    assert (again.enqueued, again.already, again.sent) == (0, 2, 0)
    assert len(fake.accepted) == 2 and len(messages(engine)) == 2


def test_without_recipients_nothing_is_queued_or_sent(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    run = send(engine, mail_settings(database_url, tmp_path, fake.url, []), tmp_path)
    assert run.recipients == 0 and run.sent == 0
    assert fake.snapshot() == [] and messages(engine) == []


def test_a_recipient_removed_before_the_send_is_stopped_by_the_gate(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    both = mail_settings(database_url, tmp_path, fake.url, [BOSS, HR])
    with session_scope(engine) as s:
        queued = enqueue_report_mail(s, both, NOW, period="2026-11", payload=payload(tmp_path), lang="ja")
    assert queued == (2, 0)
    only_hr = mail_settings(database_url, tmp_path, fake.url, [HR])
    counts = OutboxSender(engine, only_hr, backend=build_backend(only_hr),
                          renderer=ReportMailRenderer(only_hr), now=NOW, kinds=("report",),
                          windowed=False).run()
    assert (counts.sent, counts.cancelled) == (1, 1)
    assert [r.body["personalizations"][0]["to"][0]["email"] for r in fake.accepted] == [HR]
    assert sorted((m.state, m.cancelled_reason) for m in messages(engine)) == [
        ("accepted", None), ("cancelled", "recipient_not_configured")]


def test_internal_mail_goes_outside_the_candidates_sending_window(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = mail_settings(database_url, tmp_path, fake.url, [HR])
    sunday_night = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)  # 22:00 JST on a Sunday
    run = mail_report(engine, settings, RunClock.fixed(sunday_night), period="2026-11",
                      payload=payload(tmp_path), backend=build_backend(settings))
    assert run.sent == 1


def test_the_file_backend_writes_the_pdf_as_an_attachment(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, mail={"backend": "file", "outbox_dir": tmp_path / "out"},
                        report={"recipients": [HR]}, _env_file=None)  # type: ignore[call-arg]
    run = mail_report(engine, settings, RunClock.fixed(NOW), period="2026-11", payload=payload(tmp_path))
    assert run.sent == 1
    (eml,) = (tmp_path / "out").glob("msg-*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    (pdf,) = list(parsed.iter_attachments())
    assert pdf.get_filename() == "roi-2026-11.pdf" and pdf.get_content() == PDF


def test_a_pdf_over_the_size_limit_is_not_attached_and_the_mail_says_where_it_is(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = mail_settings(database_url, tmp_path, fake.url, [HR])
    settings.report.attachment_max_mb = 1
    big = payload(tmp_path)
    Path(big["pdf"]).write_bytes(b"%PDF" + b"0" * (1024 * 1024 + 1))
    run = mail_report(engine, settings, RunClock.fixed(NOW), period="2026-11", payload=big,
                      backend=build_backend(settings))
    assert run.sent == 1
    (request,) = fake.accepted
    assert "attachments" not in request.body
    assert "1 MB を超えたため添付していません" in request.body["content"][0]["value"]


def test_erasure_and_export_of_a_candidate_pass_over_internal_mail(
    engine: Engine, database_url: str, tmp_path: Path, settings: Settings
) -> None:
    load_hanako(engine)
    internal = settings.model_copy(update={"report": settings.report.model_copy(update={"recipients": [HR]})})
    with session_scope(engine) as s:
        enqueue_report_mail(s, internal, NOW, period="2026-11", payload=payload(tmp_path), lang="ja")
    with engine.connect() as conn:
        exported = export_person(conn, EMAIL, settings.retention.key_bytes(), links=settings.links)
    assert [m["kind"] for m in exported["tables"]["message"]] == ["rejection"]
    result = erase(engine, settings, EMAIL, reason="request 1", now=NOW)
    assert result.candidates == 1
    assert [(m.kind, m.candidate_id is None, m.state) for m in messages(engine)] == [
        ("rejection", False, "accepted"), ("report", True, "pending")]


def test_a_run_that_dies_after_handing_the_mail_over_is_never_followed_by_a_second_mail(
    engine: Engine, database_url: str, tmp_path: Path, fake: SendGridFake
) -> None:
    settings = mail_settings(database_url, tmp_path, fake.url, [HR])
    with session_scope(engine) as s:
        enqueue_report_mail(s, settings, NOW, period="2026-11", payload=payload(tmp_path), lang="ja")

    def crash(step: str, ids: object) -> None:
        if step == "provider_returned":
            raise KeyboardInterrupt("the worker died before recording SendGrid's answer")

    with pytest.raises(KeyboardInterrupt):
        OutboxSender(engine, settings, backend=build_backend(settings), renderer=ReportMailRenderer(settings),
                     now=NOW, kinds=("report",), windowed=False, hook=crash).run()
    assert len(fake.accepted) == 1
    # The run of the month again (a Prefect retry, or by hand): the mail is taken and stays unsent.
    again = send(engine, settings, tmp_path)
    assert (again.enqueued, again.already, again.sent) == (0, 1, 0)
    assert len(fake.accepted) == 1
    # Left `sending` by the dead worker: never sent again by itself (docs/outbox.md "Crash semantics").
    assert [m.state for m in messages(engine)] == ["sending"]
