"""PostgreSQL fast path: COPY rows in, then at most one set-based statement per table.

Multi-row `INSERT … VALUES` with thousands of placeholders is slow to build and to parse (psycopg
re-parses every long statement), and `executemany` is one statement per row. COPY streams the rows in
PostgreSQL's text format. Rows that need conflict handling go into a temporary staging table first and
are applied with one `INSERT … SELECT … ON CONFLICT` / `UPDATE … FROM`; rows known to be new (ids drawn
from the table's sequence up front, the source locked for the transaction) are copied straight into
their table. Staging tables are session-local (`TEMP`), emptied at commit, and created once per
connection and column set.

JSON values travel as JSON text (COPY's text format does not carry types; the column parses them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import JSON, Connection, Table

from junkan.db.types import UtcDateTime

#: JSON text for COPY: compact, and without \\u escapes for Japanese text (less to send and parse).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
dump_json = _JSON.encode


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def without_prepared_statements(conn: Connection) -> Iterator[None]:
    """Plan every statement of the block afresh.

    psycopg prepares a statement after 5 runs, and PostgreSQL may then settle on a generic plan for the
    batch lookups (a sequential scan against `= ANY(:keys)`), which gets slower with every batch of a
    large load. `SET plan_cache_mode = force_custom_plan` would fix that too, but it also re-plans the
    foreign-key checks of every inserted row (3× the cost of an application insert), so the driver's
    auto-prepare is switched off instead, for this connection and only for the block.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    dbapi = _dbapi(conn)
    saved = dbapi.prepare_threshold
    dbapi.prepare_threshold = None
    try:
        yield
    finally:
        dbapi.prepare_threshold = saved


def advisory_xact_lock(conn: Connection, key: str) -> None:
    """Serialise transactions that use the same key until they end (commit or rollback)."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
    with _dbapi(conn).cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (number,))


_SEQUENCES: dict[str, str] = {}


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """`count` fresh ids from the table's id sequence, in increasing order (one round trip)."""
    if count == 0:
        return []
    with _dbapi(conn).cursor() as cursor:
        sequence = _SEQUENCES.get(table.name)
        if sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table.name,))
            found = cursor.fetchone()
            if found is None or found[0] is None:
                raise RuntimeError(f"table {table.name} has no id sequence")
            sequence = _SEQUENCES[table.name] = found[0]
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, count))
        return sorted(row[0] for row in cursor.fetchall())


# psycopg formats an aware datetime for COPY in ~4 µs, and a batch repeats the same few hundred days
# and the run's `now` on every row: timestamps travel as memoised ISO text (with their offset).
_TIMESTAMPS: dict[tuple[datetime, Any], str] = {}
_TIMESTAMPS_LIMIT = 50_000


def timestamp_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; attach a timezone first")
    key = (value, value.tzinfo)  # equal instants in different zones format differently
    try:
        return _TIMESTAMPS[key] if not value.fold else value.isoformat()
    except KeyError:
        if len(_TIMESTAMPS) >= _TIMESTAMPS_LIMIT:
            _TIMESTAMPS.clear()
        text = _TIMESTAMPS[key] = value.isoformat()
        return text


def _timestamp_columns(table: Table, columns: Sequence[str]) -> list[int]:
    return [i for i, name in enumerate(columns) if isinstance(table.c[name].type, UtcDateTime)]


class CopyFailed(RuntimeError):
    """A COPY was refused; the message names the table and the reason, never the row's values."""


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              *, into: str | None = None) -> None:
    """COPY the rows (value sequences in `columns` order; JSON already as text) into `table`, or into
    the staging table `into` typed like it."""
    column_list = ", ".join(_quote(c) for c in columns)
    stamps = _timestamp_columns(table, columns)
    try:
        with _dbapi(conn).cursor() as cursor, \
                cursor.copy(f"COPY {_quote(into or table.name)} ({column_list}) FROM STDIN") as copy:
            write_row = copy.write_row
            if not stamps:
                for values in rows:
                    write_row(values)
                return
            for values in rows:
                values = list(values)
                for i in stamps:
                    if (stamp := values[i]) is not None:
                        values[i] = timestamp_text(stamp)
                write_row(values)
    except psycopg.Error as exc:
        # COPY bypasses the engine's scrubbing: its DETAIL/CONTEXT quote the row, e-mail included.
        raise CopyFailed(f"COPY into {table.name} failed: {exc.diag.message_primary} "
                         f"(SQLSTATE {exc.sqlstate})") from None


def _json_columns(table: Table, columns: Sequence[str]) -> set[int]:
    return {i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)}


def _tuples(
    table: Table, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    json_at = _json_columns(table, columns)
    for row in rows:
        values = [row[name] for name in columns]
        for i in json_at:
            value = values[i]
            if value is not None:
                values[i] = "[]" if value == [] else dump_json(value)  # most candidates have no tags
        yield tuple(values)


def copy_into(conn: Connection, table_name: str, table: Table, columns: Sequence[str],
              rows: Iterable[dict[str, Any]]) -> None:
    """COPY dict rows (JSON columns as Python values) into `table_name`, typed like `table`."""
    copy_rows(conn, table, columns, _tuples(table, columns, rows), into=table_name)


def stage(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """An empty TEMP table with `columns` typed like `table`'s (no constraints), emptied at commit."""
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:10]
    name = f"_stage_{table.name}_{digest}"
    column_list = ", ".join(_quote(c) for c in columns)
    with _dbapi(conn).cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_quote(name)} ON COMMIT DELETE ROWS AS "
            f"SELECT {column_list} FROM {_quote(table.name)} WITH NO DATA"
        )
        # Several statements of one transaction may use the same stage.
        cursor.execute(f"TRUNCATE {_quote(name)}")
    return name


def staged_insert(conn: Connection, table: Table, rows: list[dict[str, Any]], conflict: Sequence[str], *,
                  update_columns: Sequence[str] | None = None,
                  returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """INSERT … SELECT FROM stage ON CONFLICT (conflict) DO UPDATE SET `update_columns` from the new row,
    or DO NOTHING without them; returns `returning` of the rows inserted or updated."""
    columns = list(rows[0])
    name = stage(conn, table, columns)
    copy_into(conn, name, table, columns, rows)
    column_list = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(_quote(c) for c in conflict)
    if update_columns is None:
        action = "DO NOTHING"
    else:
        action = "DO UPDATE SET " + ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in update_columns)
    tail = f" RETURNING {', '.join(_quote(c) for c in returning)}" if returning else ""
    with _dbapi(conn).cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(table.name)} ({column_list}) SELECT {column_list} FROM {_quote(name)} "
            f"ON CONFLICT ({keys}) {action}{tail}"
        )
        return [tuple(found) for found in cursor.fetchall()] if returning else []


def staged_update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]],
                        columns: Sequence[str]) -> None:
    """UPDATE table SET columns FROM stage WHERE id matches (rows carry `row_id` and the columns)."""
    staged = [{"id": r["row_id"], **{c: r[c] for c in columns}} for r in rows]
    name = stage(conn, table, ["id", *columns])
    copy_into(conn, name, table, ["id", *columns], staged)
    sets = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
    with _dbapi(conn).cursor() as cursor:
        # The stage has no statistics: say how big it is, so the join probes the primary key instead
        # of scanning the whole table for a handful of rows.
        cursor.execute(f"ANALYZE {_quote(name)}")
        cursor.execute(
            f"UPDATE {_quote(table.name)} AS t SET {sets} FROM {_quote(name)} AS s WHERE t.id = s.id"
        )
