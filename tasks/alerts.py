"""Custom Prefect events for the automations of deployments/automations.yaml (docs/operations.md, Alerts).

A sending run emits `junkan.messages.unknown` when at least JUNKAN_ALERTS__UNKNOWN_THRESHOLD of its
messages ended `unknown` (the provider may or may not have taken them: someone has to settle them), and
`junkan.messages.failed` from JUNKAN_ALERTS__FAILED_THRESHOLD refused messages on. The threshold is
decided here, so the automation only has to react to the event. Payloads carry counts only; Prefect adds
the flow run as a related resource, which is how the notification links to the run.
"""

from __future__ import annotations

from prefect.events import emit_event

from junkan.runtime import settings as run_settings

EVENT_PREFIX = "junkan.messages."
OUTCOMES = ("unknown", "failed")


def resource_id(flow_name: str) -> str:
    return f"junkan.flow.{flow_name}"


def emit_message_alerts(flow_name: str, counts: dict[str, int]) -> list[str]:
    """Emit one event per outcome whose count reached its threshold; returns the events emitted.

    `counts` holds `unknown` and `failed` (the send counts of the run).
    """
    alerts = run_settings().alerts
    thresholds = {"unknown": alerts.unknown_threshold, "failed": alerts.failed_threshold}
    emitted: list[str] = []
    for outcome in OUTCOMES:
        count = int(counts.get(outcome, 0))
        if count < thresholds[outcome]:
            continue
        name = EVENT_PREFIX + outcome
        emit_event(
            event=name,
            resource={"prefect.resource.id": resource_id(flow_name), "prefect.resource.name": flow_name},
            payload={"flow": flow_name, "count": count, "threshold": thresholds[outcome]},
        )
        emitted.append(name)
    return emitted
