"""`insert_tuples` (COPY on PostgreSQL, one driver-level executemany on SQLite) stores exactly what a Core
INSERT of the same values stores: JSON objects and lists, JSON null, aware times, booleans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Boolean, Column, Engine, Integer, MetaData, String, Table, Text, cast, select

from junkan.db.types import JsonType, UtcDateTime
from junkan.ingest.upsert import insert_tuples

COLUMNS = ("label", "at", "payload", "flag")


def test_insert_tuples_stores_what_core_stores(engine: Engine) -> None:
    scratch = Table("scratch_insert_tuples", MetaData(), Column("id", Integer, primary_key=True),
                    Column("label", String(16)), Column("at", UtcDateTime), Column("payload", JsonType),
                    Column("flag", Boolean))
    when = datetime(2026, 5, 18, 1, 51, 14, 589130, tzinfo=UTC)
    values = [
        (when, {"status": "rejected", "stage": "一次面接", "tags": ["営業"]}, True),
        (when.astimezone(timezone(timedelta(hours=9))), {"status": "rejected", "stage": "一次面接",
                                                         "tags": ["営業"]}, False),
        (when + timedelta(days=1), ["法人営業", "Excel"], True),
        (None, ["法人営業", "Excel"], None),
        (when, None, False),
    ]
    scratch.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(scratch.insert(), [dict(zip(COLUMNS, (f"core{n}", *v), strict=True))
                                            for n, v in enumerate(values)])
            insert_tuples(conn, scratch, COLUMNS, [(f"fast{n}", *v) for n, v in enumerate(values)])
            stored = {label: rest for label, *rest in conn.execute(
                select(scratch.c.label, cast(scratch.c.at, Text), cast(scratch.c.payload, Text),
                       cast(scratch.c.flag, Text)))}
        for n in range(len(values)):
            assert stored[f"fast{n}"] == stored[f"core{n}"]
    finally:
        scratch.metadata.drop_all(engine)
