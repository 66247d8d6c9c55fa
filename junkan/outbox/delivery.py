"""Delivery states from provider events: `unknown`/`accepted` → `delivered`/`bounced`/`failed`, never back.

The webhook (junkan/engagement/events.py) decides from a batch of new events what each message has at
least reached and hands the targets here; the outbox, which owns `message.state` (docs/outbox.md
"Transitions"), moves them. It is the webhook's hot path, so the statements run at the driver level
(junkan/db/driver_sql.py): the batch's messages are read once (on PostgreSQL locked, in id order), and one
`UPDATE … FROM` moves those that advance. Tests run the same scenarios on both dialects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from junkan.db.driver_sql import by_dialect, ensure_write_transaction, parts, stored_time


class StateTarget(NamedTuple):
    message_id: int
    state: str
    rank: int


#: States an event may move a message out of, ranked; anything else (sending, bounced, failed, cancelled,
#: pending …) is never moved.
_RANK_OF = {"unknown": 0, "accepted": 1, "delivered": 2}
_CURRENT_RANK_SQL = ("CASE {m}.state WHEN 'unknown' THEN 0 WHEN 'accepted' THEN 1 "
                     "WHEN 'delivered' THEN 2 ELSE 99 END")
#: States that have a delivery time to fill.
_DELIVERY_STATES = frozenset({"delivered", "bounced"})
# Times come from the stored events, and only fill a column that is still empty. The correlated
# subqueries run only for those rows (COALESCE stops at the first non-null on both dialects).
_FIRST_EVENT_SQL = "(SELECT min(e.occurred_at) FROM email_event e WHERE e.message_id = {m}.id)"
_FIRST_DELIVERY_SQL = ("(SELECT min(e.occurred_at) FROM email_event e "
                       "WHERE e.message_id = {m}.id AND e.event = 'delivered')")
_ADVANCE_SET_SQL = (
    "state = v.state, updated_at = {p}, "
    f"accepted_at = coalesce({{m}}.accepted_at, {_FIRST_EVENT_SQL}), "
    "delivered_at = CASE WHEN v.state IN ('delivered', 'bounced') "
    f"THEN coalesce({{m}}.delivered_at, {_FIRST_DELIVERY_SQL}) ELSE {{m}}.delivered_at END"
)
# For a message that an `open` or a bounce moved before its `delivered` event arrived. The caller picked
# the rows by state under its lock; a state condition here would tempt PostgreSQL's planner into the
# state index (a scan of every delivered message) instead of the primary key.
_FILL_DELIVERY_SQL = (
    f"UPDATE message SET delivered_at = {_FIRST_DELIVERY_SQL.format(m='message')}, updated_at = {{p}} "
    "WHERE id {ids} AND delivered_at IS NULL"
)


def advance_states(conn: Connection, targets: Sequence[StateTarget], *, now: datetime,
                   delivered: Collection[int] = ()) -> int:
    """Move messages up to their target state, never backwards; returns how many moved.

    `delivered`: messages with a stored `delivered` event. One that an `open` or a bounce moved before
    that event arrived has no state left to change, but gains its missing delivery time.
    """
    if not targets:
        return 0
    sql = _for(conn)
    ordered = sorted(targets)
    current = sql.read_states(conn, [t.message_id for t in ordered])
    # Under the write lock (SQLite) or the row locks (PostgreSQL) these states cannot change before our
    # UPDATE, so only messages that advance are written: usually a small share of a batch. The UPDATE
    # repeats the rank test anyway, so it is right on its own.
    moving = [t for t in ordered
              if t.message_id in current and _RANK_OF.get(current[t.message_id][0], 99) < t.rank]
    moved = {t.message_id for t in moving}
    fill = sorted(mid for mid in delivered
                  if mid not in moved and mid in current
                  and current[mid][0] in _DELIVERY_STATES and current[mid][1])
    changed = sql.advance(conn, moving, now) if moving else 0
    if fill:
        sql.fill_delivery_times(conn, fill, now)
    return changed


class _DeliverySql(ABC):
    @abstractmethod
    def read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        """id → (state, delivered_at is empty) for the ids given (sorted)."""

    @abstractmethod
    def advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int: ...

    @abstractmethod
    def fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None: ...


class _SqliteDeliverySql(_DeliverySql):
    def read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        ensure_write_transaction(conn)  # read and update in one transaction, under the write lock
        current: dict[int, tuple[str, bool]] = {}
        for part in parts(conn, ids):
            sql = (f"SELECT id, state, delivered_at IS NULL FROM message "
                   f"WHERE id IN ({', '.join('?' * len(part))})")
            current.update((mid, (state, bool(empty))) for mid, state, empty
                           in conn.exec_driver_sql(sql, tuple(part)))
        return current

    def advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int:
        changed = 0
        stamp = stored_time(conn)(now)
        for part in parts(conn, moving, per_item=3, reserved=1):
            params: list[Any] = [stamp]
            for t in part:
                params += t
            values = ", ".join(["(?, ?, ?)"] * len(part))
            # The statement must start with UPDATE (not WITH): Python's sqlite3 opens its implicit
            # transaction, and reports rowcount, only for statements it recognises as DML by their first word.
            sql = (f"UPDATE message SET {_ADVANCE_SET_SQL.format(m='message', p='?')} "
                   "FROM (SELECT column1 AS id, column2 AS state, column3 AS rnk "
                   f"FROM (VALUES {values})) AS v "
                   f"WHERE message.id = v.id AND {_CURRENT_RANK_SQL.format(m='message')} < v.rnk")
            changed += conn.exec_driver_sql(sql, tuple(params)).rowcount or 0
        return changed

    def fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None:
        stamp = stored_time(conn)(now)
        for part in parts(conn, ids, reserved=1):
            sql = _FILL_DELIVERY_SQL.format(p="?", ids=f"IN ({', '.join('?' * len(part))})")
            conn.exec_driver_sql(sql, (stamp, *part))


class _PostgresDeliverySql(_DeliverySql):
    # NO KEY UPDATE, in id order: concurrent batches touching the same messages queue instead of
    # deadlocking, and the lock is compatible with the KEY SHARE locks that other batches' event inserts
    # take on the same rows through the foreign key.
    _LOCK = ("SELECT id, state, delivered_at IS NULL FROM message WHERE id = ANY(%b::bigint[]) "
             "ORDER BY id FOR NO KEY UPDATE")
    _ADVANCE = (
        f"UPDATE message AS m SET {_ADVANCE_SET_SQL.format(m='m', p='%s')} "
        "FROM unnest(%b::bigint[], %b::text[], %b::int[]) AS v(id, state, rnk) "
        # The redundant `= ANY` lets the planner reach the rows through the primary key; joining on the
        # unnest alone, it would rather scan the whole table for a few hundred ids.
        f"WHERE m.id = v.id AND m.id = ANY(%b::bigint[]) AND {_CURRENT_RANK_SQL.format(m='m')} < v.rnk"
    )
    _FILL = _FILL_DELIVERY_SQL.format(p="%s", ids="= ANY(%b::bigint[])")

    def read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        return {mid: (state, empty) for mid, state, empty in conn.exec_driver_sql(self._LOCK, (ids,))}

    def advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int:
        ids = [t.message_id for t in moving]
        params = (now, ids, [t.state for t in moving], [t.rank for t in moving], ids)
        return conn.exec_driver_sql(self._ADVANCE, params).rowcount or 0

    def fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None:
        conn.exec_driver_sql(self._FILL, (now, ids))  # rows locked by read_states, in id order


def _for(conn: Connection) -> _DeliverySql:
    return by_dialect(conn, sqlite=_SQLITE, postgresql=_POSTGRES)


_SQLITE = _SqliteDeliverySql()
_POSTGRES = _PostgresDeliverySql()
