"""The migrations build exactly the models' schema, and can be rolled back to nothing and replayed.

Runs on SQLite by default and on PostgreSQL with JUNKAN_TEST_DATABASE_URL (CI runs both). The round trip
uses its own database file (SQLite) or its own schema (PostgreSQL), so the shared test database is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Row, create_engine, inspect, text

import junkan.db.all_models  # noqa: F401  (every table on Base.metadata)
from junkan.db.engine import alembic_config, upgrade
from junkan.db.models import Base
from tests.empty_database import empty_database


def schema_drift(url: str) -> list[object]:
    """What `alembic check` would report: differences between the migrated database and the models."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the dialect under test."""
    with empty_database(database_url, tmp_path) as url:
        yield url


def test_the_migrated_test_database_matches_the_models(database_url: str) -> None:
    assert schema_drift(database_url) == []


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(scratch_url: str) -> None:
    assert table_names(scratch_url) == set()  # really a scratch database, never the shared one
    upgrade(scratch_url)
    assert schema_drift(scratch_url) == []

    command.downgrade(alembic_config(scratch_url), "base")
    assert table_names(scratch_url) <= {"alembic_version"}

    upgrade(scratch_url)
    assert schema_drift(scratch_url) == []


def rows_across(url: str, before: str, after: str, insert: str, rows: list[dict[str, Any]],
                query: str) -> list[Row[Any]]:
    """Upgrade to `before`, insert `rows` with their foreign keys unchecked (what they point at does not
    matter to these revisions), upgrade to `after`, and read `query`."""
    cfg = alembic_config(url)
    command.upgrade(cfg, before)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for row in rows:
                conn.execute(text(insert), row)
        command.upgrade(cfg, after)
        with engine.connect() as conn:
            return list(conn.execute(text(query)).all())
    finally:
        engine.dispose()


def test_0009_gives_existing_talent_pool_grants_a_365_day_expiry(scratch_url: str) -> None:
    cfg = alembic_config(scratch_url)
    command.upgrade(cfg, "0008_report_indexes")
    engine = create_engine(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO candidate (id, locale, tags, created_at, updated_at) "
                              "VALUES (1, 'ja', '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            for purpose, granted in (("talent_pool", True), ("talent_pool", False), ("recontact", True)):
                conn.execute(text("INSERT INTO consent (candidate_id, purpose, granted, recorded_at, source) "
                                  "VALUES (1, :p, :g, '2026-03-04 05:06:07.250000', 'csv')"),
                             {"p": purpose, "g": granted})
        command.upgrade(cfg, "0009_consent_lifecycle")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT purpose, granted, expires_at FROM consent ORDER BY id")).all()
    finally:
        engine.dispose()
    # PostgreSQL answers an aware datetime, SQLite the stored text.
    expiry = [None if r.expires_at is None else r.expires_at if isinstance(r.expires_at, str)
              else r.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for r in rows]
    assert expiry[0] == "2027-03-04 05:06:07.250000"
    assert expiry[1:] == [None, None]  # a withdrawal never lapses; other purposes: no validity configured


def test_0012_forgets_the_plain_recipient_hash_of_every_stored_event(scratch_url: str) -> None:
    cfg = alembic_config(scratch_url)
    command.upgrade(cfg, "0011_report_covering")
    engine = create_engine(scratch_url)
    plain = "0" * 64  # what the old code stored: the unkeyed SHA-256 of the address
    try:
        with engine.begin() as conn:
            for n in (1, 2):
                conn.execute(text("INSERT INTO email_event (sg_event_id, dedup_key, event, occurred_at, "
                                  "received_at, source, email_hash, payload) VALUES (:id, :d, 'delivered', "
                                  "'2026-11-01 00:00:00', '2026-11-01 00:00:00', 'sendgrid', :h, '{}')"),
                             {"id": f"e{n}", "d": f"d{n}", "h": plain})
        command.upgrade(cfg, "0012_event_recipient_hash")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT sg_event_id, email_hash FROM email_event ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("e1", None), ("e2", None)]


def test_0013_merges_each_persons_repeated_clicks_on_a_link_into_one_row(scratch_url: str) -> None:
    fetches = [(1, "partner", "2026-11-02 00:00:00"), (1, "partner", "2026-11-01 00:00:00"),
               (1, "partner", "2026-11-03 00:00:00"), (1, "unsubscribe", "2026-11-02 00:00:00"),
               (2, "partner", "2026-11-05 00:00:00")]
    rows = rows_across(scratch_url, "0012_event_recipient_hash", "0013_click_kind",
                       "INSERT INTO click (message_id, link, clicked_at) VALUES (:m, :l, :at)",
                       [{"m": m, "l": link, "at": at} for m, link, at in fetches],
                       "SELECT message_id, link, kind, fetches, clicked_at, last_at FROM click "
                       "ORDER BY message_id, link")
    day = [str(r[4])[:10] for r in rows], [str(r[5])[:10] for r in rows]
    assert [tuple(r[:4]) for r in rows] == [(1, "partner", "person", 3), (1, "unsubscribe", "person", 1),
                                           (2, "partner", "person", 1)]
    assert day == (["2026-11-01", "2026-11-02", "2026-11-05"], ["2026-11-03", "2026-11-02", "2026-11-05"])


def test_0020_keeps_each_persons_oldest_open_copy_request_so_one_open_request_can_be_unique(
    scratch_url: str
) -> None:
    asked = [(1, "2026-12-02 00:00:00", None), (1, "2026-12-01 00:00:00", None),
             (1, "2026-12-01 00:00:00", None), (1, "2026-11-01 00:00:00", "2026-11-02 00:00:00"),
             (2, "2026-12-03 00:00:00", None)]
    rows = rows_across(scratch_url, "0019_report_mail", "0020_copy_request_once",
                       "INSERT INTO data_copy_request (candidate_id, requested_at, source, done_at) "
                       "VALUES (:c, :at, 'preference_page', :done)",
                       [{"c": c, "at": at, "done": done} for c, at, done in asked],
                       "SELECT id, candidate_id, done_at IS NULL FROM data_copy_request ORDER BY id")
    # Of the three open requests of person 1, the oldest (the first of two at one instant) stays.
    assert [tuple(r) for r in rows] == [(2, 1, True), (4, 1, False), (5, 2, True)]
