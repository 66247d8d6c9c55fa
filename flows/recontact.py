"""`recontact`: bring pooled candidates back when new openings match them (docs/pool.md).

Part of `daily`, after `sync-partner-stats`. Artifacts: `recontact` (counts), `recontact-shortlist`
(the recruiters' digest by opaque id; the full list is the CSV in JUNKAN_RECONTACT__SHORTLIST_DIR) and
`recontact-model` (which potential score was used, with the model's evaluation or why there is none).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.overlap import holds_sending_slot
from junkan.config import get_settings
from tasks.alerts import emit_message_alerts
from tasks.recontact import match_new_openings_task, record_reapplications_task, send_recontact_task

ARTIFACT_KEY = "recontact"
SHORTLIST_KEY = "recontact-shortlist"
MODEL_KEY = "recontact-model"


@flow(name="recontact", log_prints=False)
@holds_sending_slot("recontact")
def recontact(as_of: date | None = None, mode: Literal["shortlist", "auto"] | None = None,
              dry_run: bool = False) -> dict[str, int]:
    """`mode` defaults to JUNKAN_RECONTACT__MODE (shortlist unless configured)."""
    mode = mode or get_settings().recontact.mode
    recorded = 0 if dry_run else record_reapplications_task(as_of)
    run = match_new_openings_task(as_of, mode, dry_run)
    counts: dict[str, int] = {"reapplications_recorded": recorded, **run["counts"]}
    if mode == "auto" and not dry_run:
        counts.update(send_recontact_task(as_of))
        emit_message_alerts("recontact",
                            {"unknown": counts["mails_unknown"], "failed": counts["mails_failed"]})
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=run["summary_md"],
                             description="Re-contact run: new openings, eligible pool, matches, mails")
    create_markdown_artifact(key=SHORTLIST_KEY, markdown=run["digest_md"],
                             description="Matched people per new opening, by opaque id, with reasons")
    create_markdown_artifact(key=MODEL_KEY, markdown=run["model_md"],
                             description="Potential score: rules or the calibrated model, and its evaluation")
    return counts
