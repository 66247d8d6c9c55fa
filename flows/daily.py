"""The parent flow: every sub-flow in registry order. One failure does not stop the others."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger

from flows import registry
from flows.artifacts import FLAG_KEYS, flag_notes, publish_counts
from flows.declare import PartsFailed, junkan_flow
from flows.overlap import holds_sending_slot
from flows.params import Day, as_of_field, dry_run_field, supported_kwargs

ARTIFACT_KEY = "daily-summary"

DRY_RUN_HELP = (
    "Dry run of the flows that send (send-rejections, recontact): nothing is mailed, no notice or re-contact "
    "changes state. The other flows still run for real: ingest-decisions stores the ATS's decisions, "
    "sync-email-events the suppressions, sync-partner-stats the partner's registrations."
)


class SubFlowsFailed(PartsFailed):
    """Raised at the end of `daily` so the run ends Failed and names the sub-flows that failed."""


@junkan_flow("daily",
             description="The whole daily job, at 09:00 Asia/Tokyo: every flow in order (ingest-decisions, "
             "sync-email-events, send-rejections, sync-partner-stats, recontact, retention). One failing "
             "flow does not stop the others; the run then ends Failed and names it.")
@holds_sending_slot("daily")
def daily(as_of: Day | None = as_of_field(), dry_run: bool = dry_run_field(DRY_RUN_HELP)) -> dict[str, Any]:
    logger = get_run_logger()
    if dry_run:
        logger.warning("dry run: %s", DRY_RUN_HELP)
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
    rows, notes = summary(results, failed, as_of)
    publish_counts(ARTIFACT_KEY, rows, description="What the daily run did: one row per count of each flow",
                   notes=[DRY_RUN_HELP, *notes] if dry_run else notes, dry_run=dry_run)
    if failed:
        raise SubFlowsFailed.naming("sub-flows", failed)
    return results


def summary(results: dict[str, Any], failed: list[str],
            as_of: date | None = None) -> tuple[list[tuple[str, int]], list[str]]:
    """One `flow: metric` row per count, in registry order; failures and flags as sentences."""
    rows: list[tuple[str, int]] = []
    notes: list[str] = []
    for name in registry.FLOWS:
        if name in failed:
            notes.append(f"{name}: 失敗（このフローの件数はありません。ログを確認してください）")
            continue
        counts = results.get(name)
        if not isinstance(counts, dict):
            continue
        rows += [(f"{name}: {key}", value) for key, value in counts.items()
                 if key not in FLAG_KEYS and isinstance(value, int) and not isinstance(value, bool)]
        # The dry run is said once, for the whole run, above.
        notes += [f"{name}: {note}" for note in flag_notes({**counts, "dry_run": 0}, as_of)]
    return rows, notes
