"""A database error never carries personal data into logs: Prefect logs and stores a failed task's exception,
so neither the bound values nor PostgreSQL's DETAIL ("Key (email_key)=(…) already exists") may be in it."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from junkan.db.models import Candidate
from junkan.db.types import utcnow

ADDRESS = "taro.yamada@example.jp"


def test_a_unique_violation_names_the_constraint_but_not_the_address(engine: Engine) -> None:
    row = {"email_key": ADDRESS, "display_name": "山田 太郎", "locale": "ja", "tags": [],
           "created_at": utcnow(), "updated_at": utcnow()}
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(Candidate), [row])
        conn.execute(insert(Candidate), [row])

    logged = "".join(traceback.format_exception(caught.value))
    assert "email_key" in logged  # still says what went wrong …
    assert ADDRESS not in logged and "山田" not in logged  # … but not whose row it was
    if engine.dialect.name == "postgresql":
        # Code that needs the detail still has it, on the driver's error.
        assert caught.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
        assert ADDRESS in caught.value.orig.diag.message_detail  # type: ignore[union-attr]
