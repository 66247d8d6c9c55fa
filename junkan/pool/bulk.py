"""Bulk work over the whole pool: its snapshot tables written at the driver level, garbage collection kept
from walking the pool's millions of objects again and again.

A run rewrites the pool snapshot and the potential scores (a row per member: hundreds of thousands) and
stores its matches. Through Core, every row's every value goes through its type's bind processor; here
each column's processor runs once per distinct value (the run's `now`, a few hundred decision days, the
same reasons lists over and over) and the rows go to the driver in one executemany (SQLite) or one COPY
(PostgreSQL, `junkan.ingest.pgcopy`), so the stored text is what the ORM would have written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Connection, Table

from junkan.ingest.pgcopy import copy_rows, dump_json


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while millions of long-lived objects are built: each full collection walks
    them all again, and none of them is garbage yet."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """The objects alive now (after `load_signals`: millions) are left out of garbage collection until
    the block ends, so the collections that the matcher's own allocations trigger do not walk them again
    and again. Reference counting still frees them as usual; only cycles among them wait for the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _processed(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """`process` applied once per distinct value of a column (lists, as JSON values, by their items)."""
    keys = [tuple(v) if isinstance(v, list) else v for v in values]
    done: dict[Any, Any] = {}
    for key, value in zip(keys, values, strict=True):
        if key not in done:
            done[key] = process(value)
    return [done[key] for key in keys]


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """INSERT `rows` (value sequences in `columns` order, Python values as for Core) into `table`."""
    if not rows:
        return
    columns_of = [list(c) for c in zip(*rows, strict=True)]
    for i, name in enumerate(columns):
        kind = table.c[name].type
        if conn.dialect.name == "postgresql":
            # COPY takes JSON as text; copy_rows formats the times.
            if isinstance(kind, JSON):
                columns_of[i] = _processed(columns_of[i], dump_json)
            continue
        bind = kind.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if bind is not None:
            columns_of[i] = _processed(columns_of[i], bind)
    prepared = list(zip(*columns_of, strict=True))
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, columns, prepared)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", prepared)
