"""A refused COPY (PostgreSQL) reports the table and the reason, never the row's personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from junkan.db.models import Candidate
from junkan.ingest.pgcopy import CopyFailed, copy_rows


# COPY exists only on PostgreSQL; SQLite ingest uses INSERT, whose errors the engine scrubs.
@pytest.mark.postgresql_only
def test_copy_failure_message_carries_no_row_values(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    # A locale longer than its column: PostgreSQL's CONTEXT would quote the whole line.
    rows = [("taro.yamada@example.jp", "山田 太郎", "x" * 20, "[]")]
    columns = ["email_key", "display_name", "locale", "tags"]
    with engine.connect() as conn, pytest.raises(CopyFailed) as caught:
        copy_rows(conn, Candidate.__table__, columns, rows)
    message = str(caught.value)
    assert "candidate" in message and "SQLSTATE" in message
    assert "taro" not in message and "山田" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
