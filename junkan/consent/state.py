"""The current state of a consent purpose: the newest record, per candidate, that has not expired.

This module is the one definition of that rule; everything that reads consent goes through it:
- `unexpired(at)`: the records that count at `at` (recorded by then, not expired by then);
- `NEWEST_FIRST`: which of them is the current one (latest `recorded_at`, then highest id);
- `current_consents(at)`: a subquery with one row per (candidate, purpose), for joins and reports;
- `is_current(record, at)`: this record (Consent or an alias) is the current one of its purpose;
- `is_granted(candidate_id, purpose, at)` / `is_withdrawn(…)`: correlated conditions for WHERE clauses;
- `current_granted(candidate_id, purpose, at)`: the current record's `granted` (NULL without one) as a
  correlated scalar subquery, one index lookup per row, for a select list over a few rows;
- `latest_by_candidate(conn, purpose, at)`: the same answer as a dict, read in one ordered scan, for
  bulk readers (a window function is much slower on SQLite at pool sizes);
- `oldest_first(purpose, at, *columns)`: that scan's query, for a reader that takes the last row per
  candidate itself (the pool reads it as columns).

No record that counts = never asked (or the grant lapsed): neither granted nor withdrawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from junkan.db.models import Consent

__all__ = [
    "NEWEST_FIRST",
    "ConsentState",
    "current_consents",
    "current_granted",
    "is_current",
    "is_granted",
    "is_withdrawn",
    "latest_by_candidate",
    "oldest_first",
    "unexpired",
]


def unexpired(at: datetime, consent: Any = Consent) -> ColumnElement[bool]:
    """Records of `consent` (the model or an alias of it) that count at `at`."""
    return and_(consent.recorded_at <= at, or_(consent.expires_at.is_(None), consent.expires_at > at))


#: Order that puts the current record first among those that count.
NEWEST_FIRST = (Consent.recorded_at.desc(), Consent.id.desc())


def is_current(record: Any, at: datetime) -> ColumnElement[bool]:
    """`record` (Consent or an alias of it) is the current one of its (candidate, purpose) at `at`."""
    return and_(unexpired(at, record), ~_newer_exists(record, at))


def _newer_exists(record: Any, at: datetime) -> ColumnElement[bool]:
    newer = aliased(Consent)
    return exists().where(
        newer.candidate_id == record.candidate_id,
        newer.purpose == record.purpose,
        unexpired(at, newer),
        or_(newer.recorded_at > record.recorded_at,
            and_(newer.recorded_at == record.recorded_at, newer.id > record.id)),
    )


def _current_is(candidate_id: ColumnElement[Any] | Any, purpose: str, at: datetime,
                granted: bool) -> ColumnElement[bool]:
    record = aliased(Consent)
    return exists().where(
        record.candidate_id == candidate_id,
        record.purpose == purpose,
        record.granted.is_(granted),
        is_current(record, at),
    )


def is_granted(candidate_id: ColumnElement[Any] | Any, purpose: str, at: datetime) -> ColumnElement[bool]:
    """The current `purpose` record of `candidate_id` (a column or a value) is a grant."""
    return _current_is(candidate_id, purpose, at, True)


def is_withdrawn(candidate_id: ColumnElement[Any] | Any, purpose: str, at: datetime) -> ColumnElement[bool]:
    """The current `purpose` record of `candidate_id` is a withdrawal (a lapsed grant is not one)."""
    return _current_is(candidate_id, purpose, at, False)


def current_granted(candidate_id: ColumnElement[Any] | Any, purpose: str, at: datetime) -> Any:
    """`granted` of the current `purpose` record of `candidate_id`; NULL when none counts."""
    return (
        select(Consent.granted)
        .where(Consent.candidate_id == candidate_id, Consent.purpose == purpose, unexpired(at))
        .order_by(*NEWEST_FIRST)
        .limit(1)
        .correlate_except(Consent)
        .scalar_subquery()
    )


def current_consents(at: datetime, purposes: Sequence[str] | None = None) -> Subquery:
    """One row per (candidate_id, purpose) — the current record — with every consent column."""
    rank = func.row_number().over(
        partition_by=(Consent.candidate_id, Consent.purpose), order_by=NEWEST_FIRST,
    ).label("rank")
    ranked = select(Consent.id, Consent.candidate_id, Consent.purpose, Consent.granted, Consent.recorded_at,
                    Consent.expires_at, Consent.source, Consent.wording_version, rank).where(unexpired(at))
    if purposes is not None:
        ranked = ranked.where(Consent.purpose.in_(tuple(purposes)))
    inner = ranked.subquery("ranked_consent")
    return (
        select(*(c for c in inner.c if c.name != "rank"))
        .where(inner.c.rank == 1)
        .subquery("current_consent")
    )


@dataclass(frozen=True, slots=True)
class ConsentState:
    granted: bool
    recorded_at: datetime
    expires_at: datetime | None


def oldest_first(purpose: str, at: datetime, *columns: Any) -> Select[Any]:
    """`candidate_id` and `columns` of the `purpose` records that count at `at`, by candidate, oldest first:
    the last row read per candidate is the current one (for readers that take it row by row or as
    columns, like the pool)."""
    return (
        select(Consent.candidate_id, *columns)
        .where(Consent.purpose == purpose, unexpired(at))
        .order_by(Consent.candidate_id, Consent.recorded_at, Consent.id)
    )


def latest_by_candidate(conn: Connection, purpose: str, at: datetime,
                        candidate_ids: Sequence[int] | None = None) -> dict[int, ConsentState]:
    """Current `purpose` record per candidate (those with none are absent), in one ordered scan."""
    query = oldest_first(purpose, at, Consent.granted, Consent.recorded_at, Consent.expires_at)
    if candidate_ids is not None:
        query = query.where(Consent.candidate_id.in_(list(candidate_ids)))
    return {cid: ConsentState(bool(granted), rec, exp) for cid, granted, rec, exp in conn.execute(query)}
