"""`send-rejections` end to end under Prefect: enqueue + send, counts artifact, dry run, bad key."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select

from flows.send_rejections import ARTIFACT_KEY, SendingStopped, send_rejections
from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.db import session_scope
from junkan.db.models import Consent, Message
from junkan.runtime import simulated_time
from tests.fakes.sendgrid import SendGridFake
from tests.flows._artifacts import labelled_counts, newest_table
from tests.integration._outbox_data import JST, add_application, suppress

#: Wednesday: notices decided on Monday 2026-11-16 became due at 09:00.
AS_OF = date(2026, 11, 18)
pytestmark = pytest.mark.usefixtures("real_clock_in_the_window")


def _seed(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_application(s, email="ichiro@example.com", name="鈴木 一郎", partner_consent=True)
        add_application(s, email="jiro@example.com")
        add_application(s, status="withdrawn", email="saburo@example.com")
        add_application(s, email="blocked@example.com")
        suppress(s, "blocked@example.com")
        add_application(s, status="hired", email="hired@example.com")


def test_flow_sends_due_notices_once_and_publishes_counts_without_personal_data(
    engine: Engine, sendgrid_fake: SendGridFake
) -> None:
    _seed(engine)
    counts = send_rejections(as_of=AS_OF)
    assert {k: counts[k] for k in ("due", "enqueued", "sent", "suppressed", "failed", "unknown",
                                   "cancelled")} == {
        "due": 4, "enqueued": 3, "sent": 3, "suppressed": 1, "failed": 0, "unknown": 0, "cancelled": 0}
    assert len(sendgrid_fake.accepted) == 3
    table = newest_table(ARTIFACT_KEY)[0]
    shown = labelled_counts(table)  # Japanese first, English beside it, no machine key
    assert shown["送信済み"] == 3 and shown["期限到来"] == 4
    assert {row["item"]: row["件数"] for row in table}["sent"] == 3
    assert "ドライラン" not in shown and "送信時間帯の外" not in shown  # flags are words, not counts
    dumped = json.dumps(table, ensure_ascii=False)
    assert "@" not in dumped and "鈴木" not in dumped
    again = send_rejections(as_of=AS_OF)
    assert (again["due"], again["enqueued"], again["sent"]) == (0, 0, 0)
    assert len(sendgrid_fake.accepted) == 3


def test_dry_run_uses_the_sandbox_and_changes_nothing(engine: Engine, sendgrid_fake: SendGridFake) -> None:
    _seed(engine)
    counts = send_rejections(as_of=AS_OF, dry_run=True)
    assert counts["dry_run"] == 1 and counts["previewed"] == 3 and counts["sent"] == 0
    assert sendgrid_fake.accepted == [] and len(sendgrid_fake.snapshot()) == 3
    assert all(r.sandbox for r in sendgrid_fake.snapshot())
    with session_scope(engine) as s:
        assert list(s.scalars(select(Message))) == []
    # The preview has its own key: the real run's figures stay what the UI shows under the real one.
    table, description = newest_table(f"{ARTIFACT_KEY}-dry-run")
    assert labelled_counts(table)["プレビュー（送信なし）"] == 3
    assert "ドライラン: 何も送信せず、状態も変更していない" in description


def test_a_bad_api_key_fails_the_run_after_publishing_counts(
    engine: Engine, sendgrid_fake: SendGridFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine)
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", "SG.revoked")
    state = send_rejections(as_of=AS_OF, return_state=True)
    assert state.is_failed()
    with pytest.raises(SendingStopped):
        state.result()
    table, description = newest_table(ARTIFACT_KEY)
    shown = labelled_counts(table)
    # The refused notices wait for the fixed key instead of failing for good (issue 9 §4).
    assert shown["送信済み"] == 0 and shown["失敗"] == 0 and shown["保留（APIキーの修正待ち）"] >= 1
    assert "送信サービスが認証情報を拒否したため送信を停止" in description


def test_the_flow_sends_consent_renewals_once_when_enabled(
    engine: Engine, sendgrid_fake: SendGridFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUNKAN_CONSENT__RENEWAL_ENABLED", "true")
    granted = datetime(2025, 11, 21, tzinfo=UTC)  # lapses 2026-11-21: three days after AS_OF
    with session_scope(engine) as s:
        app = add_application(s, status="hired", email="pool@example.com")
        s.add(Consent(candidate_id=app.candidate_id, purpose="talent_pool", granted=True, recorded_at=granted,
                      source="csv", expires_at=expires_at("talent_pool", True, granted, ConsentSettings())))
    counts = send_rejections(as_of=AS_OF)
    assert (counts["renewals_enqueued"], counts["renewals_sent"], counts["sent"]) == (1, 1, 0)
    assert len(sendgrid_fake.accepted) == 1
    with session_scope(engine) as s:
        assert s.scalars(select(Message.kind)).all() == ["consent_renewal"]
    again = send_rejections(as_of=AS_OF)
    assert (again["renewals_enqueued"], again["renewals_sent"]) == (0, 0) and len(sendgrid_fake.accepted) == 1


def test_a_run_outside_the_sending_window_says_so_and_when_it_opens(
    engine: Engine, sendgrid_fake: SendGridFake
) -> None:
    _seed(engine)
    # The real clock on Saturday 21 November 2026; Monday the 23rd is a holiday (勤労感謝の日).
    with simulated_time(datetime(2026, 11, 21, 10, 0, tzinfo=JST)):
        counts = send_rejections(as_of=date(2026, 11, 21))
    assert counts["outside_window"] == 1 and counts["sent"] == 0
    table, description = newest_table(ARTIFACT_KEY)
    assert "送信時間帯の外" not in labelled_counts(table)
    assert "送信時間帯（9:00–18:00 JST）の外のため未送信。次回: 11/24 09:00" in description


def test_a_backfill_before_the_window_holds_the_mails_until_it_opens(
    engine: Engine, sendgrid_fake: SendGridFake
) -> None:
    _seed(engine)
    # `junkan run send-rejections --as-of 2026-11-18`, run at 06:37 the next morning.
    with simulated_time(datetime(2026, 11, 19, 6, 37, tzinfo=JST)):
        early = send_rejections(as_of=AS_OF)
    assert (early["enqueued"], early["sent"], early["outside_window"]) == (3, 0, 1)
    assert sendgrid_fake.accepted == []
    with session_scope(engine) as s:
        states = sorted(s.scalars(select(Message.state)))
    assert states == ["pending", "pending", "pending", "suppressed"]  # nothing left, nothing lost
    _, description = newest_table(ARTIFACT_KEY)
    assert "送信時間帯（9:00–18:00 JST）の外のため未送信。次回: 11/19 09:00" in description

    with simulated_time(datetime(2026, 11, 19, 9, 0, tzinfo=JST)):
        opened = send_rejections(as_of=AS_OF)
    assert (opened["sent"], opened["outside_window"]) == (3, 0) and len(sendgrid_fake.accepted) == 3
