"""`ingest-decisions`: pull changed applications from the ATS, upsert them, quarantine bad records."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_table_artifact

from tasks.ingest import ingest_applications_task
from tasks.persistence import RESULT_SERIALIZER

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
    ("no address", "no_address"),
    ("erased (skipped)", "erased"),
)


@flow(name="ingest-decisions", log_prints=False, result_serializer=RESULT_SERIALIZER)
def ingest_decisions(as_of: date | None = None, full_refresh: bool = False) -> dict[str, int]:
    """`as_of` re-reads from that day (Asia/Tokyo) onwards; `full_refresh` ignores the watermark."""
    counts = ingest_applications_task(as_of=as_of, full=full_refresh)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{"count": label, "value": counts[key]} for label, key in ARTIFACT_ROWS],
        description="Decision ingest: applications new, updated, rejected, hired, withdrawn, re-applied "
        "and records quarantined; no address: stored, listed for review; erased: records of erased people, "
        "skipped "
        f"(unchanged: {counts['unchanged']}, un-rejected: {counts['unrejected']})",
    )
    return counts
