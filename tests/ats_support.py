"""What an ATS adapter yields, split as ingest splits it: records it stores and records it quarantines."""

from __future__ import annotations

from collections.abc import Iterable

from junkan.ats.base import ApplicationRecord, BadRecord


def split_records(records: Iterable[object]) -> tuple[list[ApplicationRecord], list[BadRecord]]:
    """The adapter's output in order, good and bad apart; anything else fails (nothing is lost between)."""
    good: list[ApplicationRecord] = []
    bad: list[BadRecord] = []
    for record in records:
        if isinstance(record, ApplicationRecord):
            good.append(record)
        elif isinstance(record, BadRecord):
            bad.append(record)
        else:
            raise AssertionError(f"an adapter yielded a {type(record).__name__}: neither good nor bad")
    return good, bad


def by_external_id(records: Iterable[ApplicationRecord]) -> dict[str, ApplicationRecord]:
    return {record.external_id: record for record in records}


def statuses(records: Iterable[ApplicationRecord]) -> dict[str, str]:
    """{external id: status} as the adapter mapped it (an unmappable status passes through raw)."""
    return {record.external_id: record.status for record in records}
