"""How ingest reads and writes: one pass over a spreadsheet, a bounded background reader, bulk lookups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from junkan.ats.base import ApplicationRecord, BadRecord
from junkan.ats.csv_source import CsvAdapter
from junkan.db.models import Application, Candidate, Job, RejectionReason, Watermark
from junkan.ingest import ingest
from junkan.ingest.upsert import select_in
from tests.db_support import wipe
from tests.integration._ingest_support import RERUN_BOOKKEEPING, T0, FixedClock, ListAdapter, app, dump, rows
from tests.integration.test_ingest_csv import write_export


class CountingCsvAdapter(CsvAdapter):
    """The real adapter, counting how often it opens the file for a pass over its rows."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.passes = 0

    def _raw_rows(self) -> Iterator[list[Any]]:
        self.passes += 1
        yield from super()._raw_rows()


class ReferenceFirstCsvAdapter(CsvAdapter):
    """The same adapter without the single-pass hint: ingest syncs its reference data up front."""

    reference_from_applications = False


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "junkan-ingest-reader"]


def test_a_spreadsheet_is_read_once_per_ingest(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write_export(path, n=300)
    adapter = CountingCsvAdapter(path)
    counts = ingest(engine, adapter, as_of=None, clock=FixedClock(), batch_size=70)
    assert adapter.passes == 1
    assert counts.new + counts.quarantined == 300
    assert {j.status for j in rows(engine, Job)} == {"open"}  # placeholders completed by the sync


def test_single_pass_gives_the_same_database_as_reading_reference_data_first(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    write_export(path, n=400)
    clock = FixedClock()
    ingest(engine, ReferenceFirstCsvAdapter(path), as_of=None, clock=clock, batch_size=90)
    reference_first = dump(engine, RERUN_BOOKKEEPING)
    assert rows(engine, RejectionReason) and rows(engine, Job)

    wipe(engine)
    ingest(engine, CsvAdapter(path), as_of=None, clock=clock, batch_size=90)
    # Ids can differ (placeholders are created in a different order); compare what is stored by key.
    single_pass = dump(engine, RERUN_BOOKKEEPING)
    for table in ("job", "rejection_reason"):
        assert _by_key(single_pass[table]) == _by_key(reference_first[table]), table
    assert _applications(single_pass) == _applications(reference_first)
    assert len(single_pass["application"]) == 398  # rows 204 and 305 cannot be stored (12, 103: no address)
    for table in ("candidate", "decision_log", "consent", "quarantine"):
        assert single_pass[table] == reference_first[table], table


def _by_key(table_rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    # (id, source, external_id, …): key on source and external id, drop the id.
    return {(r[1], r[2]): r[3:] for r in table_rows}


def _applications(db: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Application rows with their job and reason named by external id instead of row id."""
    jobs = {r[0]: r[2] for r in db["job"]}
    reasons = {r[0]: r[2] for r in db["rejection_reason"]}
    columns = [c.name for c in Application.__table__.columns]
    job_at, reason_at = columns.index("job_id"), columns.index("reason_id")
    out = []
    for row in db["application"]:
        values = list(row)
        values[job_at] = jobs.get(values[job_at])
        values[reason_at] = reasons.get(values[reason_at])
        out.append(tuple(values))
    return out


def test_a_snapshot_whose_rows_are_all_filtered_out_still_syncs_its_reference_data(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "updated.csv"
    path.write_text("メールアドレス,選考結果,求人,不採用理由,更新日時\n"
                    "a@example.jp,不採用,営業,スキル不足,2026/11/01 09:00\n", encoding="utf-8")
    counts = ingest(engine, _SinceFuture(CsvAdapter(path)), as_of=None, clock=FixedClock())
    assert counts.new == 0
    assert [j.title for j in rows(engine, Job)] == ["営業"]
    assert [r.name for r in rows(engine, RejectionReason)] == ["スキル不足"]
    assert rows(engine, Application) == []


class _SinceFuture:
    """Wraps an adapter so that every application is older than the window (nothing to ingest)."""

    def __init__(self, inner: CsvAdapter) -> None:
        self.inner = inner
        self.source = inner.source
        self.reference_from_applications = inner.reference_from_applications

    def fetch_jobs(self) -> Any:
        return self.inner.fetch_jobs()

    def fetch_openings(self) -> Any:
        return self.inner.fetch_openings()

    def fetch_rejection_reasons(self) -> Any:
        return self.inner.fetch_rejection_reasons()

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        return self.inner.fetch_applications(datetime(2030, 1, 1, tzinfo=T0.tzinfo))

    def close(self) -> None:
        self.inner.close()


class _FailingClock(FixedClock):
    """A clock that breaks on the n-th call: a stand-in for any failure on the writing side."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.calls = 0
        self.fail_on = fail_on

    def __call__(self) -> datetime:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("simulated: writer failed")
        return super().__call__()


class _EndlessAdapter(ListAdapter):
    """A source far larger than memory would hold; notes when its stream is closed."""

    def __init__(self) -> None:
        super().__init__([])
        self.stream_closed = threading.Event()
        self.produced = 0

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        try:
            while True:
                self.produced += 1
                yield app(str(self.produced), at=T0 + timedelta(seconds=self.produced))
        finally:
            self.stream_closed.set()


def test_a_failing_writer_stops_the_reader_which_stays_a_few_batches_ahead(engine: Engine) -> None:
    adapter = _EndlessAdapter()
    with pytest.raises(RuntimeError, match="writer failed"):
        ingest(engine, adapter, as_of=None, batch_size=10, clock=_FailingClock(fail_on=12))
    assert adapter.stream_closed.is_set()
    assert _reader_threads() == []
    stored = len(rows(engine, Application))
    assert stored >= 10 and stored % 10 == 0  # whole batches committed, the failed one rolled back
    # Beyond what was written: the failed batch, the next one, one queued and one being read.
    assert adapter.produced <= stored + 10 * 4 + 1


def test_a_failing_source_ends_the_run_with_the_sources_own_error(engine: Engine) -> None:
    records = [app(str(i), at=T0 + timedelta(minutes=i)) for i in range(30)]
    with pytest.raises(ConnectionError):
        ingest(engine, ListAdapter(records, fail_after=25), as_of=None, batch_size=10)
    assert _reader_threads() == []
    assert len(rows(engine, Application)) == 10  # batch 2 waited for batch 3, which never completed


def test_lookups_find_keys_of_every_shape(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("plain"), app("42")]), as_of=None)
    with engine.begin() as conn:
        conn.execute(insert(Watermark), [{"source": name, "value": T0, "updated_at": T0}
                                         for name in ("a", "with\x1fseparator", "")])
    table, marks = Application.__table__, Watermark.__table__
    with engine.connect() as conn:
        by_text = select_in(conn, [table.c.external_id], table.c.external_id, ["42", "plain", "missing"])
        odd = select_in(conn, [marks.c.source], marks.c.source, ["with\x1fseparator", "", "b"])
        ids = [r.id for r in rows(engine, Application)]
        by_id = select_in(conn, [table.c.id], table.c.id, [*ids, 10**12])
        candidates = select_in(conn, [Candidate.__table__.c.id], Candidate.__table__.c.email_key,
                               ["userplain@example.jp"])
    assert sorted(r.external_id for r in by_text) == ["42", "plain"]
    assert sorted(r.source for r in odd) == ["", "with\x1fseparator"]
    assert sorted(r.id for r in by_id) == sorted(ids)
    assert len(candidates) == 1
