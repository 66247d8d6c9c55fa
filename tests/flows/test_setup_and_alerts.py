"""`junkan setup` against the harness's real Prefect API, and an alert fired without a real incident.

The harness server runs Prefect's trigger and action services, so an automation created by `junkan setup`
really posts to the (local) webhook its notification block names.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SendgridEmail
from prefect.client.orchestration import get_client
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from flows.setup import AUTOMATIONS_FILE, load_automations, notification_block
from junkan.cli import app
from junkan.config import get_settings
from tasks.common import emit_message_alerts
from tasks.limits import ATS_LIMIT, SEND_LIMIT, SENDGRID_LIMIT

NAMES = ("junkan-flow-run-failed", "junkan-messages-unknown", "junkan-messages-failed")
WEBHOOK_SECRET_PATH = "/hooks/alerts-7f3a"
#: Prefect's services react within seconds; this bounds a broken setup, it is not a pause.
DEADLINE_S = 90


@pytest.fixture
def alerts(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[queue.Queue[dict[str, Any]]]:
    """A local webhook as the alert target; the automations are removed again afterwards."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def hook(request: Request) -> Response:
        received.put(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request(WEBHOOK_SECRET_PATH, method="POST").respond_with_handler(hook)
    monkeypatch.setenv("JUNKAN_ALERTS__NOTIFY", "webhook")
    monkeypatch.setenv("JUNKAN_ALERTS__WEBHOOK_URL", httpserver.url_for(WEBHOOK_SECRET_PATH))
    yield received
    with get_client(sync_client=True) as client:
        for name in NAMES:
            for automation in client.read_automations_by_name(name):
                client.delete_automation(automation.id)


def _setup() -> str:
    result = CliRunner().invoke(app, ["setup"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _next_alert(received: queue.Queue[dict[str, Any]], subject_part: str) -> dict[str, Any]:
    while True:
        alert = received.get(timeout=DEADLINE_S)
        if subject_part in alert["subject"]:
            return alert


def test_setup_twice_leaves_one_automation_of_each_name_the_block_and_the_limits(
    alerts: queue.Queue[dict[str, Any]],
) -> None:
    first = json.loads(_setup())
    second = json.loads(_setup())

    assert first["automations"] == dict.fromkeys(NAMES, "created")
    assert second["automations"] == dict.fromkeys(NAMES, "updated")
    assert second["limits"] == [SEND_LIMIT, SENDGRID_LIMIT, ATS_LIMIT]
    assert second["block"] == "custom-webhook/junkan-alerts"
    assert WEBHOOK_SECRET_PATH not in json.dumps([first, second])  # the URL is a secret setting
    block = CustomWebhookNotificationBlock.load("junkan-alerts")
    assert block.url.endswith(WEBHOOK_SECRET_PATH)
    with get_client(sync_client=True) as client:
        found = {name: client.read_automations_by_name(name) for name in NAMES}
    assert {name: len(autos) for name, autos in found.items()} == dict.fromkeys(NAMES, 1)
    for (automation,) in found.values():
        assert automation.enabled
        assert [a.block_document_id for a in automation.actions] == [block._block_document_id]


def test_setup_refuses_a_notification_without_its_target_and_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUNKAN_ALERTS__NOTIFY", "slack")

    result = CliRunner().invoke(app, ["setup"])

    assert result.exit_code == 2
    assert "JUNKAN_ALERTS__NOTIFY is slack, so JUNKAN_ALERTS__SLACK_WEBHOOK_URL must be set" in result.output


def test_email_alerts_use_the_mail_key_and_sender_unless_their_own_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the block is checked here: Prefect's SendgridEmail block posts to SendGrid itself, with no base
    # URL to point at a local fake, so no alert e-mail is sent by the suite.
    monkeypatch.setenv("JUNKAN_ALERTS__NOTIFY", "email")
    monkeypatch.setenv("JUNKAN_ALERTS__EMAIL_TO", '["hr-ops@example.co.jp", "it@example.co.jp"]')
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", "SG.mail-key")
    monkeypatch.setenv("JUNKAN_MAIL__FROM_EMAIL", "recruiting@example.co.jp")

    block = notification_block(get_settings())
    assert isinstance(block, SendgridEmail)
    assert block.api_key.get_secret_value() == "SG.mail-key"
    assert (block.sender_email, block.to_emails) == ("recruiting@example.co.jp",
                                                      ["hr-ops@example.co.jp", "it@example.co.jp"])

    monkeypatch.setenv("JUNKAN_ALERTS__SENDGRID_API_KEY", "SG.alerts-key")
    monkeypatch.setenv("JUNKAN_ALERTS__EMAIL_FROM", "junkan-alerts@example.co.jp")
    own = notification_block(get_settings())
    assert isinstance(own, SendgridEmail)
    assert own.api_key.get_secret_value() == "SG.alerts-key"
    assert own.sender_email == "junkan-alerts@example.co.jp"


def test_email_alerts_without_recipients_are_refused_and_name_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUNKAN_ALERTS__NOTIFY", "email")
    monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", "SG.mail-key")

    result = CliRunner().invoke(app, ["setup"])

    assert result.exit_code == 2
    assert "JUNKAN_ALERTS__NOTIFY is email, so JUNKAN_ALERTS__EMAIL_TO must list addresses" in result.output


def test_unknown_messages_over_the_threshold_reach_the_webhook(
    alerts: queue.Queue[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _setup()
    monkeypatch.setenv("JUNKAN_ALERTS__UNKNOWN_THRESHOLD", "3")

    # Below the threshold nothing is emitted; at it, the event the automation reacts to.
    assert emit_message_alerts("send-rejections", {"unknown": 2, "failed": 0}) == []
    assert emit_message_alerts("send-rejections", {"unknown": 3, "failed": 0}) == ["junkan.messages.unknown"]

    alert = _next_alert(alerts, "message(s) unknown")
    assert alert["subject"] == "Junkan: 3 message(s) unknown in send-rejections"
    assert "(alert threshold 3)" in " ".join(alert["body"].split())
    assert "junkan outbox list --state unknown" in alert["body"]


def test_a_failed_flow_run_reaches_the_webhook(
    alerts: queue.Queue[dict[str, Any]], database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _setup()
    # A harmless failure: a partner report that does not exist (no mail, no data touched).
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_PARTNER__KIND", "csv")
    monkeypatch.setenv("JUNKAN_PARTNER__PATH", f"{tmp_path}/no-such-report.csv")
    assert CliRunner().invoke(app, ["run", "sync-partner-stats"]).exit_code == 1

    alert = _next_alert(alerts, "sync-partner-stats")
    assert alert["subject"] == "Junkan: sync-partner-stats Failed"
    assert "partner sync failed: careerrelay" in alert["body"]


def test_the_automations_file_is_valid_prefect_automations() -> None:
    automations = load_automations(AUTOMATIONS_FILE, "00000000-0000-0000-0000-000000000001")
    assert tuple(a.name for a in automations) == NAMES
