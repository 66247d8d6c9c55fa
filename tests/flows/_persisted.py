"""What Prefect keeps of a run, as text to search: result files, and the API's states, logs, artifacts.

Prefect writes a result or a failed run's exception to `<local storage>/<key>`: a task's as JSON whose
`result` is the serializer's bytes, a flow's as those bytes alone. The pickle serializer (the default)
writes base64, so a plain byte search would miss a pickled e-mail address: each file is searched as
stored and as decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterStartTime,
    LogFilter,
    LogFilterTimestamp,
    TaskRunFilter,
    TaskRunFilterStartTime,
)
from prefect.logging.handlers import APILogHandler
from prefect.settings import (
    PREFECT_HOME,
    PREFECT_RESULTS_LOCAL_STORAGE_PATH,
    PREFECT_RESULTS_PERSIST_BY_DEFAULT,
    temporary_settings,
)

from tests.flows._artifacts import of_runs

_PAGE = 200


@contextmanager
def private_prefect_home(home: Path) -> Iterator[Path]:
    """PREFECT_HOME and its result storage in `home`, and results persisted by default: the most an
    operator can turn on, so the scan sees everything Prefect would ever write."""
    storage = home / "storage"
    with temporary_settings(updates={PREFECT_HOME: home, PREFECT_RESULTS_LOCAL_STORAGE_PATH: storage,
                                     PREFECT_RESULTS_PERSIST_BY_DEFAULT: True}):
        yield storage


def _decoded(raw: bytes) -> Iterator[bytes]:
    yield raw
    try:
        record = json.loads(raw)
    except ValueError:  # a flow's result pickled: base64 alone
        payload: object = raw.decode("ascii", errors="replace")
    else:
        payload = record.get("result") if isinstance(record, dict) else None
    if isinstance(payload, str):
        # The JSON serializer's text is not base64: already searched as stored.
        with suppress(binascii.Error):
            yield base64.decodebytes(payload.encode())


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (path -> its stored bytes followed by any decoded result payload)."""
    return {str(path): b"\n".join(_decoded(path.read_bytes())) for path in sorted(root.rglob("*"))
            if path.is_file()}


def stored_results(storage: Path) -> dict[str, tuple[str, object]]:
    """Each result file's serializer and value (path -> (serializer, value)); a pickle is left encoded."""
    found: dict[str, tuple[str, object]] = {}
    for path in sorted(p for p in storage.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        try:
            record = json.loads(raw)
        except ValueError:
            found[str(path)] = ("pickle", raw)  # a flow's result: the serializer's bytes alone
            continue
        if isinstance(record, dict) and "metadata" in record:  # a task's: metadata and result
            serializer = record["metadata"]["serializer"]["type"]
            value = json.loads(record["result"]) if serializer == "json" else record["result"]
            found[str(path)] = (serializer, value)
        else:
            found[str(path)] = ("json", record)
    return found


def _pages(read, **kwargs):  # type: ignore[no-untyped-def]
    offset = 0
    while batch := read(limit=_PAGE, offset=offset, **kwargs):
        yield from batch
        offset += len(batch)


def api_records(since: datetime) -> dict[str, str]:
    """What the Prefect API stored since `since`: every state of every flow and task run (message and
    data), every log record, every artifact (label -> JSON text)."""
    APILogHandler().flush()  # log records are shipped in the background
    found: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        flow_runs = list(_pages(client.read_flow_runs,
                                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since))))
        task_runs = list(_pages(client.read_task_runs,
                                task_run_filter=TaskRunFilter(start_time=TaskRunFilterStartTime(after_=since))))
        for run in flow_runs:
            for i, state in enumerate(client.read_flow_run_states(run.id)):
                found[f"flow run {run.name} state {i}"] = state.model_dump_json()
            found[f"flow run {run.name} parameters"] = json.dumps(run.parameters, ensure_ascii=False,
                                                                  default=str)
        for task_run in task_runs:
            for i, state in enumerate(client.read_task_run_states(task_run.id)):
                found[f"task run {task_run.name} state {i}"] = state.model_dump_json()
        for log in _pages(client.read_logs, log_filter=LogFilter(timestamp=LogFilterTimestamp(after_=since))):
            found[f"log {log.id}"] = log.message
        found.update(_artifacts(client, [run.id for run in flow_runs]))
    return found


def _artifacts(client: SyncPrefectClient, flow_run_ids: list) -> dict[str, str]:  # type: ignore[type-arg]
    if not flow_run_ids:
        return {}
    return {f"artifact {a.key}": json.dumps([a.data, a.description], ensure_ascii=False, default=str)
            for a in of_runs(client, flow_run_ids)}


def leaks(texts: dict[str, bytes] | dict[str, str], needles: tuple[str, ...]) -> list[str]:
    """'where: needle' for each needle found, for a readable assertion failure."""
    found = []
    for where, text in texts.items():
        haystack = text if isinstance(text, bytes) else text.encode()
        for needle in needles:
            # As written, and as JSON writes non-ASCII text by default (\u82b1 for 花).
            forms = {needle.encode(), json.dumps(needle)[1:-1].encode()}
            if any(form in haystack for form in forms):
                found.append(f"{where}: {needle}")
    return found
