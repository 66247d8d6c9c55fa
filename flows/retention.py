"""`retention`: anonymise who the retention rules say is due (docs/privacy.md). Last in `daily`.

The artifact `retention` holds counts only: candidates per rule and rows per table. `dry_run` lists
what would be anonymised, by rule and count, and changes nothing.
"""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_table_artifact

from tasks.persistence import RESULT_SERIALIZER
from tasks.retention import anonymise_due_task

ARTIFACT_KEY = "retention"


@flow(name="retention", log_prints=False, result_serializer=RESULT_SERIALIZER)
def retention(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """`as_of` judges as of that local day (default today, Asia/Tokyo)."""
    counts = anonymise_due_task(as_of=as_of, dry_run=dry_run)
    verb = "due (dry run, nothing changed)" if dry_run else "anonymised"
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{"count": name, "value": value} for name, value in counts.items()],
        description=f"Retention: candidates {verb} per rule, rows scrubbed per table (counts only)",
    )
    return counts
