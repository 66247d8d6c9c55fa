"""`recontact`: bring pooled candidates back when new openings match them (docs/pool.md).

Part of `daily`, after `sync-partner-stats`. Artifacts: `recontact` (counts), `recontact-shortlist`
(the recruiters' digest by opaque id; the full list is the CSV in JUNKAN_RECONTACT__SHORTLIST_DIR) and
`recontact-model` (which potential score was used, with the model's evaluation or why there is none).
"""

from __future__ import annotations

from typing import Literal

from prefect import flow
from pydantic import Field

from flows.artifacts import publish_markdown, sending_notes
from flows.declare import schema_checked
from flows.overlap import holds_sending_slot
from flows.params import Day, as_of_field, dry_run_field, run_namer
from flows.results import FlowResult
from junkan.runtime import settings as run_settings
from tasks.common import emit_message_alerts
from tasks.recontact import match_new_openings_task, record_reapplications_task, send_recontact_task

ARTIFACT_KEY = "recontact"
SHORTLIST_KEY = "recontact-shortlist"
MODEL_KEY = "recontact-model"


DRY_RUN_HELP = ("Match and show the results only: no run is stored, no re-application recorded, no mail "
                "enqueued or sent.")


@flow(name="recontact", log_prints=False, flow_run_name=run_namer("recontact"),
      description="Match pooled candidates past their cool-down to newly opened positions: a shortlist for "
      "recruiters, or re-contact mails in `auto` mode. Part of `daily`; run it by hand to preview.")
@schema_checked
@holds_sending_slot("recontact")
def recontact(
    as_of: Day | None = as_of_field(),
    mode: Literal["shortlist", "auto"] | None = Field(
        None, description="shortlist: a digest and CSV for recruiters, no mail; auto: re-contact mails to "
        "those who consented. Empty: JUNKAN_RECONTACT__MODE (shortlist unless configured)."),
    dry_run: bool = dry_run_field(DRY_RUN_HELP),
) -> FlowResult:
    mode = mode or run_settings().recontact.mode
    recorded = 0 if dry_run else record_reapplications_task(as_of)
    run = match_new_openings_task(as_of, mode, dry_run)
    counts: dict[str, int] = {"reapplications_recorded": recorded, **run["counts"]}
    flags: dict[str, bool] = {}
    if mode == "auto" and not dry_run:
        sent = send_recontact_task(as_of)
        flags["outside_window"] = bool(sent.pop("outside_window"))
        counts.update(sent)
        emit_message_alerts("recontact",
                            {"unknown": counts["mails_unknown"], "failed": counts["mails_failed"]})
    publish_markdown(ARTIFACT_KEY, run["summary_md"], dry_run=dry_run,
                     description="Re-contact run: new openings, eligible pool, matches, mails")
    publish_markdown(SHORTLIST_KEY, run["digest_md"], dry_run=dry_run,
                     description="Matched people per new opening, by opaque id, with reasons")
    publish_markdown(MODEL_KEY, run["model_md"], dry_run=dry_run,
                     description="Potential score: rules or the calibrated model, and its evaluation")
    notes = sending_notes(outside_window=flags.get("outside_window", False), fatal=False, as_of=as_of)
    return FlowResult(counts, flags, notes)
