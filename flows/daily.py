"""The parent flow: every sub-flow in registry order. One failure does not stop the others."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows import registry
from flows.overlap import holds_sending_slot
from flows.params import supported_kwargs
from tasks.persistence import RESULT_SERIALIZER


class SubFlowsFailed(RuntimeError):
    """Raised at the end of `daily` so the run ends Failed and names the sub-flows that failed."""


@flow(name="daily", log_prints=False, result_serializer=RESULT_SERIALIZER)
@holds_sending_slot("daily")
def daily(as_of: date | None = None, dry_run: bool = False) -> dict[str, Any]:
    logger = get_run_logger()
    results: dict[str, Any] = {}
    failed: list[str] = []
    for name in registry.FLOWS:
        sub = registry.load(name)
        state = sub(**supported_kwargs(sub, as_of=as_of, dry_run=dry_run), return_state=True)
        if state.is_completed():
            results[name] = state.result()
        else:
            # Keep going: a partner API outage must not stop today's rejection notices.
            failed.append(name)
            logger.error("sub-flow %s ended %s", name, state.type.value)
    create_markdown_artifact(
        key="daily-summary",
        markdown=_summary(results, failed),
        description="What today's daily run did, per sub-flow",
    )
    if failed:
        raise SubFlowsFailed(f"sub-flows failed: {', '.join(failed)}")
    return results


def _summary(results: dict[str, Any], failed: list[str]) -> str:
    lines = ["# Daily run", "", "| flow | result |", "| --- | --- |"]
    for name in registry.FLOWS:
        if name in failed:
            lines.append(f"| {name} | **failed** |")
        else:
            counts = results.get(name) or {}
            if isinstance(counts, dict):
                shown = ", ".join(f"{k}={v}" for k, v in counts.items())
            else:
                shown = str(counts)
            lines.append(f"| {name} | {shown} |")
    return "\n".join(lines)
