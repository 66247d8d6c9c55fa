"""`ingest-decisions`: pull changed applications from the ATS, upsert them, quarantine bad records."""

from __future__ import annotations

from pydantic import Field

from flows.artifacts import publish_counts
from flows.declare import junkan_flow
from flows.params import Day, as_of_field
from flows.results import FlowResult
from tasks.ingest import ingest_applications_task

ARTIFACT_KEY = "ingest-decisions-counts"
#: (label shown in the UI, key in the counts) — the figures an operator checks after a run.
ARTIFACT_ROWS = (
    ("new", "new"),
    ("updated", "updated"),
    ("rejected", "rejected"),
    ("hired", "hired"),
    ("withdrawn", "withdrawn"),
    ("re-applied", "reapplied"),
    ("quarantined", "quarantined"),
    ("quarantined jobs and reasons", "reference_quarantined"),
    ("no address", "no_address"),
    ("erased (skipped)", "erased"),
)


@junkan_flow("ingest-decisions",
             description="Pull new and changed hiring decisions from the ATS, store them, and quarantine "
             "bad records. Part of `daily`; run it by hand to re-read a past day.")
def ingest_decisions(
    as_of: Day | None = as_of_field("Re-read the ATS from this day on (YYYY-MM-DD, Asia/Tokyo), as if the "
                                    "watermark were there. Empty: from the watermark."),
    full_refresh: bool = Field(False, description="Ignore the watermark and re-read every application the "
                               "ATS has. Safe to repeat: nothing is stored twice, no mail is sent."),
) -> FlowResult:
    counts = ingest_applications_task(as_of=as_of, full=full_refresh)
    publish_counts(
        ARTIFACT_KEY,
        [(label, counts[key]) for label, key in ARTIFACT_ROWS],
        description="Decision ingest: applications new, updated, rejected, hired, withdrawn, re-applied "
        "and records quarantined (jobs, openings and reasons apart); no address: stored, listed for "
        "review; erased: records of erased people, skipped "
        f"(unchanged: {counts['unchanged']}, un-rejected: {counts['unrejected']})",
    )
    return FlowResult(counts)
