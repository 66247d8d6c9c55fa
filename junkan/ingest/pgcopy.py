"""PostgreSQL fast path: COPY a batch into a temporary staging table, then one set-based statement.

Multi-row `INSERT … VALUES` with thousands of placeholders is slow to build and to parse (psycopg
re-parses every long statement), and `executemany` is one statement per row. COPY streams the rows in
PostgreSQL's text format; `INSERT … SELECT … ON CONFLICT` / `UPDATE … FROM` then apply them in one
statement each. Staging tables are session-local (`TEMP`), emptied at commit, and created once per
connection and column set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Connection, Table


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def _json_columns(table: Table, columns: Sequence[str]) -> set[int]:
    return {i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)}


def _tuples(
    table: Table, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> Iterable[tuple[Any, ...]]:
    json_at = _json_columns(table, columns)
    for row in rows:
        values = [row[name] for name in columns]
        for i in json_at:
            if values[i] is not None:
                values[i] = Jsonb(values[i])
        yield tuple(values)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_into(conn: Connection, table_name: str, table: Table, columns: Sequence[str],
              rows: Iterable[dict[str, Any]]) -> None:
    column_list = ", ".join(_quote(c) for c in columns)
    with _dbapi(conn).cursor() as cursor, \
            cursor.copy(f"COPY {_quote(table_name)} ({column_list}) FROM STDIN") as copy:
        for values in _tuples(table, columns, rows):
            copy.write_row(values)


def _stage(conn: Connection, table: Table, columns: Sequence[str]) -> str:
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


def staged_upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: Sequence[str],
    update_columns: Sequence[str],
) -> list[int]:
    """INSERT … SELECT FROM stage ON CONFLICT DO UPDATE; ids returned in the order of `rows`."""
    columns = list(rows[0])
    stage = _stage(conn, table, columns)
    copy_into(conn, stage, table, columns, rows)
    column_list = ", ".join(_quote(c) for c in columns)
    sets = ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in update_columns)
    keys = ", ".join(_quote(c) for c in conflict)
    with _dbapi(conn).cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(table.name)} ({column_list}) SELECT {column_list} FROM {_quote(stage)} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets} RETURNING id, {keys}"
        )
        ids = {tuple(found[1:]): found[0] for found in cursor.fetchall()}
    return [ids[tuple(row[c] for c in conflict)] for row in rows]


def staged_insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]],
                          conflict: Sequence[str]) -> None:
    columns = list(rows[0])
    stage = _stage(conn, table, columns)
    copy_into(conn, stage, table, columns, rows)
    column_list = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(_quote(c) for c in conflict)
    with _dbapi(conn).cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(table.name)} ({column_list}) SELECT {column_list} FROM {_quote(stage)} "
            f"ON CONFLICT ({keys}) DO NOTHING"
        )


def staged_update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]],
                        columns: Sequence[str]) -> None:
    """UPDATE table SET columns FROM stage WHERE id matches (rows carry `row_id` and the columns)."""
    staged = [{"id": r["row_id"], **{c: r[c] for c in columns}} for r in rows]
    stage = _stage(conn, table, ["id", *columns])
    copy_into(conn, stage, table, ["id", *columns], staged)
    sets = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
    with _dbapi(conn).cursor() as cursor:
        cursor.execute(
            f"UPDATE {_quote(table.name)} AS t SET {sets} FROM {_quote(stage)} AS s WHERE t.id = s.id"
        )
