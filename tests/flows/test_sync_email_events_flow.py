"""`sync-email-events` end to end: a SendGrid suppression fake, stored webhook events, the artifact."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select

from flows.sync_email_events import ARTIFACT_KEY, EmailEventSyncFailed, sync_email_events
from junkan.db import session_scope
from junkan.db.models import Message, Suppression
from junkan.engagement.events import ingest_events
from tests.fakes.sendgrid_suppressions import API_KEY, SuppressionFake
from tests.flows._artifacts import labelled_counts, newest_table
from tests.integration._engagement_data import add_message, event
from tests.privacy_support import KEY, hashed

AS_OF = date(2026, 11, 18)
CREATED = int(datetime(2026, 11, 17, 3, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def fake(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine
         ) -> SuppressionFake:
    fake = SuppressionFake(httpserver)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "sendgrid")
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", API_KEY)
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_HOST", fake.url)
    monkeypatch.setenv("JUNKAN_MAIL__ASM_GROUP_ID", "42")
    return fake


def test_sync_email_events_merges_suppressions_settles_unknown_messages_and_publishes_counts(
    engine: Engine, fake: SuppressionFake
) -> None:
    fake.add("bounces", "gone@example.jp", CREATED, reason="550 5.1.1 user unknown", status="5.1.1")
    fake.add("spam_reports", "angry@example.jp", CREATED)
    fake.set_group(42, ["quiet@example.jp"])
    with session_scope(engine) as s:
        unknown = add_message(s, email="crash@example.jp", state="sending")
        ingest_events(s, [event("delivered", unknown, email="crash@example.jp", ts=CREATED)],
                      now=datetime(2026, 11, 17, 4, 0, tzinfo=UTC),
                      key=KEY)
        s.get(Message, unknown.id).state = "unknown"  # what crash recovery leaves behind

    result = sync_email_events(as_of=AS_OF)

    assert result["bounces_added"] == 1 and result["spam_reports_added"] == 1
    assert result["asm_group_added"] == 1 and result["suppressions_added"] == 3
    assert result["unknown_resolved"] == 1 and result["unknown_remaining"] == 0
    assert result["unknown_resent"] == 0 and result["unknown_waiting_for_operator"] == 0
    table = labelled_counts(newest_table(ARTIFACT_KEY)[0])
    assert table["配信停止リストへの追加（合計）"] == 3 and table["結果不明から確定"] == 1
    assert table["不達：追加"] == 1 and table["迷惑メール報告：追加"] == 1
    assert all("@" not in str(key) for key in table)  # counts only, no addresses
    with session_scope(engine) as s:
        assert s.get(Message, unknown.id).state == "delivered"
        assert sorted(s.scalars(select(Suppression.email_hash))) == sorted(
            hashed(a) for a in ("angry@example.jp", "gone@example.jp", "quiet@example.jp"))
    # end_time is the end of the as_of day in Tokyo: an analyst's re-run sees that day's lists.
    assert {r.args.get("end_time") for r in fake.requests if "end_time" in r.args} == {
        str(int(datetime(2026, 11, 18, 15, 0, tzinfo=UTC).timestamp()))}

    again = sync_email_events(as_of=AS_OF)
    assert again["suppressions_added"] == 0 and again["messages_updated"] == 0


def test_a_failed_pull_still_reconciles_and_fails_the_run(engine: Engine, fake: SuppressionFake) -> None:
    fake.api_key = "SG.other"  # the configured key is rejected with 401: not retried, the pull fails
    with session_scope(engine) as s:
        unknown = add_message(s, email="crash@example.jp", state="sending")
        ingest_events(s, [event("processed", unknown, email="crash@example.jp", ts=CREATED)],
                      now=datetime(2026, 11, 17, 4, 0, tzinfo=UTC),
                      key=KEY)
        s.get(Message, unknown.id).state = "unknown"

    with pytest.raises(EmailEventSyncFailed, match="pull-sendgrid-suppressions"):
        sync_email_events(as_of=AS_OF)

    with session_scope(engine) as s:
        assert s.get(Message, unknown.id).state == "accepted"
    table, description = newest_table(ARTIFACT_KEY)
    assert "結果不明から確定" in labelled_counts(table)
    # The failed part in words, not as a row counting 0.
    assert "pull-sendgrid-suppressions が失敗したため、その件数はありません" in description


