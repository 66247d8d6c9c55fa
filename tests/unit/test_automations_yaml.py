"""deployments/automations.yaml alerts on every Junkan flow and on both custom events the flows emit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows import catalog

FILE = Path(__file__).resolve().parents[2] / "deployments" / "automations.yaml"


def _automations() -> dict[str, Any]:
    return {a["name"]: a for a in yaml.safe_load(FILE.read_text(encoding="utf-8"))["automations"]}


def test_the_failed_run_automation_watches_every_flow_of_the_catalog() -> None:
    trigger = _automations()["junkan-flow-run-failed"]["trigger"]
    watched = trigger["match_related"]["prefect.resource.name"]
    assert sorted(watched) == sorted(catalog.flow_names())
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}


def test_each_message_event_has_an_automation_and_every_action_notifies_the_setup_block() -> None:
    automations = _automations()
    expected = {event for a in automations.values() for event in a["trigger"]["expect"]}
    assert {"junkan.messages.unknown", "junkan.messages.failed"} <= expected
    actions = [action for a in automations.values() for action in a["actions"]]
    assert actions and all(action["type"] == "send-notification" for action in actions)
    assert {action["block_document_id"] for action in actions} == {"{{ junkan_alerts_block }}"}
