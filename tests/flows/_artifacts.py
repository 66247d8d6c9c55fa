"""The artifacts flows publish, read back through the Prefect API as an operator would see them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort

#: Artifacts asked for at once (the API hands out a limited page).
_PAGE = 200


def newest(key: str) -> Artifact:
    """The newest artifact published under `key`; the test fails when there is none."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                                      sort=ArtifactSort.CREATED_DESC, limit=1)
    assert found, f"no {key} artifact"
    return found[0]


def of_runs(client: SyncPrefectClient, run_ids: Sequence[UUID]) -> list[Artifact]:
    """Every artifact the flow runs `run_ids` published, page by page."""
    chosen = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=list(run_ids)))
    found: list[Artifact] = []
    while page := client.read_artifacts(artifact_filter=chosen, limit=_PAGE, offset=len(found)):
        found += page
    return found


def newest_text(key: str) -> str:
    """The newest markdown artifact under `key`."""
    return str(newest(key).data)


def newest_table(key: str) -> tuple[list[dict[str, Any]], str]:
    """The newest table artifact under `key`: its rows and its description."""
    artifact = newest(key)
    return table_rows(artifact), artifact.description or ""


def table_rows(artifact: Artifact) -> list[dict[str, Any]]:
    """A table artifact's rows; the API hands them back as JSON text or already parsed."""
    data = artifact.data
    rows: list[dict[str, Any]] = json.loads(data) if isinstance(data, str) else data
    return rows


#: A Japanese word (kana or kanji): what a labelled row has and a bare machine key never has.
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")


def labelled_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """A counts table as the operator reads it, by its Japanese label. Fails on a row an operator could
    not read: a count without a label shows its bare key (junkan/count_labels.py)."""
    assert rows and all(set(row) == {"項目", "item", "件数"} for row in rows), rows  # every counts table
    for row in rows:
        assert JAPANESE.search(row["項目"]) and not IDENTIFIER.search(row["item"]), f"unlabelled count: {row}"
    return {row["項目"]: row["件数"] for row in rows}
