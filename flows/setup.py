"""`junkan setup`: put on the Prefect server what Junkan's runs rely on, idempotently.

1. The global limits of tasks/limits.py (`junkan-send`, `junkan-sendgrid`, `junkan-ats`), from
   JUNKAN_LIMITS__*.
2. The notification block named JUNKAN_ALERTS__BLOCK_NAME: a Slack webhook, e-mail through SendGrid, or
   a custom JSON webhook (JUNKAN_ALERTS__NOTIFY); skipped, with the automations, when that is `none`.
3. The automations of deployments/automations.yaml, created or updated by name; duplicates of a name
   (from a hand-made copy) are removed, so one of each remains.

Running it again leaves the server as it was. Secrets go into the block (Prefect stores block secrets
encrypted) and are never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SendgridEmail, SlackWebhook
from prefect.client.orchestration import get_client
from prefect.events.schemas.automations import AutomationCore
from pydantic import SecretStr

from junkan.config import AlertSettings, Settings
from tasks.limits import ensure_limits

AUTOMATIONS_FILE = Path(__file__).resolve().parents[1] / "deployments" / "automations.yaml"
#: What the YAML's `send-notification` actions say instead of a block id.
BLOCK_PLACEHOLDER = "{{ junkan_alerts_block }}"


class SetupError(ValueError):
    """The settings or the automations file cannot be applied (the message names the setting or file)."""


def _secret(value: SecretStr | None, setting: str, kind: str) -> SecretStr:
    if value is None or not value.get_secret_value():
        raise SetupError(f"JUNKAN_ALERTS__NOTIFY is {kind}, so {setting} must be set")
    return value


def notification_block(settings: Settings) -> SlackWebhook | SendgridEmail | CustomWebhookNotificationBlock:
    """The block JUNKAN_ALERTS__NOTIFY asks for, built from the settings (not saved)."""
    alerts: AlertSettings = settings.alerts
    if alerts.notify == "slack":
        return SlackWebhook(url=_secret(alerts.slack_webhook_url, "JUNKAN_ALERTS__SLACK_WEBHOOK_URL",
                                        "slack"))
    if alerts.notify == "email":
        key = alerts.sendgrid_api_key or settings.mail.sendgrid_api_key
        if not alerts.email_to:
            raise SetupError("JUNKAN_ALERTS__NOTIFY is email, so JUNKAN_ALERTS__EMAIL_TO must list addresses")
        return SendgridEmail(
            api_key=_secret(key, "JUNKAN_ALERTS__SENDGRID_API_KEY (or JUNKAN_MAIL__SENDGRID_API_KEY)",
                            "email"),
            sender_email=alerts.email_from or settings.mail.from_email,
            to_emails=list(alerts.email_to),
        )
    if alerts.notify == "webhook":
        return CustomWebhookNotificationBlock(
            name=alerts.block_name,
            url=_secret(alerts.webhook_url, "JUNKAN_ALERTS__WEBHOOK_URL", "webhook").get_secret_value(),
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
            headers=None, cookies=None,
        )
    raise SetupError(f"JUNKAN_ALERTS__NOTIFY {alerts.notify!r} creates no block")


def load_automations(path: Path, block_id: str) -> list[AutomationCore]:
    """The automations of `path`, their notifications pointed at the block `block_id`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SetupError(f"{path}: cannot read the automations ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("automations"), list):
        raise SetupError(f"{path}: expected a top-level `automations:` list")
    automations = []
    for i, item in enumerate(data["automations"]):
        for action in item.get("actions", []):
            notifies = action.get("type") == "send-notification"
            if notifies and action.get("block_document_id") == BLOCK_PLACEHOLDER:
                action["block_document_id"] = block_id
        try:
            automations.append(AutomationCore.model_validate(item))
        except ValueError as exc:
            raise SetupError(f"{path}: automation {item.get('name', i)!r} is not valid: {exc}") from None
    return automations


def apply_automations(automations: list[AutomationCore]) -> dict[str, str]:
    """Create or update each automation by name; returns name -> `created` / `updated`."""
    done: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for automation in automations:
            existing = client.read_automations_by_name(automation.name)
            if existing:
                keep, *extra = existing
                client.update_automation(keep.id, automation)
                for duplicate in extra:
                    client.delete_automation(duplicate.id)
                done[automation.name] = "updated"
            else:
                client.create_automation(automation)
                done[automation.name] = "created"
    return done


def setup(settings: Settings, automations_file: Path = AUTOMATIONS_FILE) -> dict[str, Any]:
    """Limits, notification block and automations; returns what was done (names only, no secrets)."""
    report: dict[str, Any] = {"limits": ensure_limits(settings)}
    if settings.alerts.notify == "none":
        report["alerts"] = "not set up (JUNKAN_ALERTS__NOTIFY is none)"
        return report
    block = notification_block(settings)
    block_id = block.save(settings.alerts.block_name, overwrite=True)
    report["block"] = f"{block.get_block_type_slug()}/{settings.alerts.block_name}"
    report["automations"] = apply_automations(load_automations(automations_file, str(block_id)))
    return report
