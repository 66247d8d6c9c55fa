"""`retention`: anonymise who the retention rules say is due (docs/privacy.md). Last in `daily`.

The artifact `retention` holds counts only: candidates per rule and rows per table. `dry_run` lists
what would be anonymised, by rule and count, and changes nothing.
"""

from __future__ import annotations

from flows.artifacts import publish_counts
from flows.declare import junkan_flow
from flows.params import Day, as_of_field, dry_run_field
from flows.results import FlowResult
from tasks.retention import anonymise_due_task

ARTIFACT_KEY = "retention"

DRY_RUN_HELP = ("List who would be anonymised, by rule and count (artifact `retention-dry-run`); nothing is "
                "changed.")


@junkan_flow("retention",
             description="Anonymise the candidates the retention rules say are due: rejected or withdrawn "
             "without talent-pool consent after the configured days, pool members whose consent lapsed. "
             "Hired candidates are never touched. Last in `daily`; counts only in its artifact.")
def retention(as_of: Day | None = as_of_field(),
              dry_run: bool = dry_run_field(DRY_RUN_HELP)) -> FlowResult:
    counts = anonymise_due_task(as_of=as_of, dry_run=dry_run)
    verb = "due (dry run, nothing changed)" if dry_run else "anonymised"
    publish_counts(ARTIFACT_KEY, counts, dry_run=dry_run,
                   description=f"Retention: candidates {verb} per rule, rows scrubbed per table "
                   "(counts only)")
    return FlowResult(counts)
