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


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        key = tuple(value) if isinstance(value, list) else value
        try:
            return seen[key]
        except KeyError:
            done = seen[key] = process(value)
            return done
        except TypeError:  # unhashable (a dict): no memo
            return process(value)
    return run


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """INSERT `rows` (value sequences in `columns` order, Python values as for Core) into `table`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        jsons = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        if jsons:
            to_text = _memo(dump_json)
            rows = [[to_text(v) if i in jsons else v for i, v in enumerate(row)] for row in rows]
        copy_rows(conn, table, columns, rows)
        return
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        bind = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if bind is not None:
            processors.append((i, _memo(bind)))
    if processors:
        prepared: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for i, run in processors:
                values[i] = run(values[i])
            prepared.append(values)
        rows = prepared
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
                         [tuple(r) for r in rows])
