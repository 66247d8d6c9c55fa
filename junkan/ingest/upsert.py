"""Bulk statements that read and write one batch in a handful of round trips, on SQLite and PostgreSQL.

Both dialects support `INSERT … ON CONFLICT`; SQLAlchemy exposes it per dialect, so the statement is
built from the dialect module that matches the connection. On PostgreSQL the rows travel by COPY into a
staging table instead (junkan.ingest.pgcopy): same statements, set-based, much faster at 1000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from junkan.batching import batched
from junkan.db.dialect import conflict_insert
from junkan.ingest import pgcopy

#: Keys per `IN (…)` list; well below SQLite's 32,766 bound-parameter limit and PostgreSQL's 65,535.
IN_CHUNK = 2000


def upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: Sequence[str],
    update_columns: Sequence[str],
) -> list[int]:
    """INSERT … ON CONFLICT (conflict) DO UPDATE SET update_columns = excluded.*; returns the row ids
    in the order of `rows`.

    RETURNING makes SQLAlchemy send multi-row VALUES ("insertmanyvalues", up to 1000 rows per
    statement) instead of one statement per row, and hands back the ids without another SELECT.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        found = pgcopy.staged_insert(conn, table, rows, conflict, update_columns=update_columns,
                                     returning=("id", *conflict))
        ids = {tuple(key): row_id for row_id, *key in found}
        return [ids[tuple(row[c] for c in conflict)] for row in rows]
    stmt = conflict_insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: getattr(stmt.excluded, name) for name in update_columns},
    )
    result = conn.execute(stmt.returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def insert_missing(
    conn: Connection, table: Table, rows: list[dict[str, Any]], *, conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT DO NOTHING: safe when another run inserted the same key meanwhile.

    Returns the `returning` columns of the rows actually inserted (a row that met a conflict is absent).
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        return pgcopy.staged_insert(conn, table, rows, conflict, returning=returning)
    stmt = conflict_insert(conn, table).on_conflict_do_nothing(index_elements=list(conflict))
    wanted = [table.c[name] for name in returning] or [table.c.id]
    found = conn.execute(stmt.returning(*wanted), rows).all()
    return [tuple(row) for row in found] if returning else []


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Plain multi-row INSERT (RETURNING only to get SQLAlchemy's batched multi-row VALUES on SQLite)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pgcopy.copy_into(conn, table.name, table, list(rows[0]), rows)
        return
    conn.execute(table.insert().returning(table.c.id), rows).all()


def _processed(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """`process` applied once per distinct value of a column (lists, as JSON values, by their items):
    a run's `now`, a few hundred decision days, the same reasons lists over and over."""
    try:
        keys = [tuple(v) if isinstance(v, list) else v for v in values]
        done: dict[Any, Any] = {}
        for key, value in zip(keys, values, strict=True):
            if key not in done:
                done[key] = process(value)
    except TypeError:  # unhashable values (JSON objects such as a decision's payload): one by one
        return [process(v) for v in values]
    return [done[key] for key in keys]


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str],
                  rows: Sequence[Sequence[Any]]) -> None:
    """Plain INSERT of `rows` (value sequences in `columns` order, Python values as for Core, JSON
    included): one COPY on PostgreSQL, one executemany on SQLite.

    Through Core, every row's every value goes through its type's bind processor; here each column's
    processor runs once per distinct value, so the stored text is what Core would have written."""
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    columns_of = [list(c) for c in zip(*rows, strict=True)]
    for i, name in enumerate(columns):
        kind = table.c[name].type
        if postgres:
            # COPY takes JSON as text; copy_rows formats the times.
            if isinstance(kind, JSON):
                columns_of[i] = _processed(columns_of[i], pgcopy.dump_json)
            continue
        bind = kind.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if bind is not None:
            columns_of[i] = _processed(columns_of[i], bind)
    prepared = list(zip(*columns_of, strict=True))
    if postgres:
        pgcopy.copy_rows(conn, table, columns, prepared)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", prepared)


def update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """UPDATE table SET columns WHERE id = :id, as one executemany (rows carry `row_id` and the columns)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pgcopy.staged_update_by_id(conn, table, rows, columns)
        return
    stmt = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"v_{name}") for name in columns})
    )
    params = [{"row_id": r["row_id"], **{f"v_{name}": r[name] for name in columns}} for r in rows]
    # Core's executemany form of UPDATE … WHERE id = :row_id; one statement, many parameter sets.
    conn.execute(stmt.execution_options(synchronize_session=False), params)


_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a normalised key (it counts as whitespace)


def _pg_array(key: Column[Any], values: list[Any]) -> Any:
    """The keys as one PostgreSQL array parameter.

    psycopg builds array parameters element by element in Python (~10 µs per row of a batch); text and
    integer keys travel as one joined string split by the server instead, when no key contains the
    separator.
    """
    if all(type(v) is int for v in values):
        joined = ",".join(map(str, values))
        split = func.string_to_array(bindparam("keys", joined, type_=Text()), ",")
        return cast(split, postgresql.ARRAY(BigInteger))
    if all(type(v) is str and v for v in values):  # string_to_array('') is an empty array
        joined = _SEPARATOR.join(values)
        if joined.count(_SEPARATOR) == len(values) - 1:
            return func.string_to_array(bindparam("keys", joined, type_=Text()), _SEPARATOR,
                                        type_=postgresql.ARRAY(Text()))
    return bindparam("keys", values, type_=postgresql.ARRAY(key.type))


def select_in(
    conn: Connection,
    columns: Sequence[Column[Any]],
    key: Column[Any],
    values: Iterable[Any],
    *where: Any,
) -> list[Any]:
    """SELECT columns WHERE key IN values [AND where…].

    PostgreSQL gets one array parameter (`key = ANY(:keys)`), which binds and plans in constant time;
    SQLite gets an expanded IN list, in chunks below its bound-parameter limit.
    """
    unique = list(dict.fromkeys(v for v in values if v is not None))
    if not unique:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(select(*columns).where(key == any_(_pg_array(key, unique)), *where)).all())
    out: list[Any] = []
    for part in batched(unique, IN_CHUNK):
        out.extend(conn.execute(select(*columns).where(key.in_(part), *where)).all())
    return out
