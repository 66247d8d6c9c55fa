"""The schema is created by the migrations, identically on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

from junkan.db import session_scope
from junkan.db.models import Application, Base, Candidate


def test_migrations_create_every_model_table(engine: Engine) -> None:
    actual = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= actual
    assert "alembic_version" in actual


def test_datetimes_round_trip_as_aware_utc(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Candidate(email_key="a@example.com", display_name="山田 太郎"))
    with session_scope(engine) as s:
        cand = s.scalars(select(Candidate)).one()
        assert cand.created_at.tzinfo is not None
        assert cand.created_at.utcoffset().total_seconds() == 0


def test_application_status_is_constrained(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Candidate(email_key="b@example.com"))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        cand = s.scalars(select(Candidate)).one()
        s.add(
            Application(
                source="csv",
                external_id="1",
                candidate_id=cand.id,
                status="maybe",
                content_hash="x",
                decided_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
