"""The follow-up KPI joins each rejection to its notice directly: the schema allows one per application."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message


def _notice(app: Application, key: str, kind: str = "rejection") -> Message:
    now = datetime(2026, 10, 5, tzinfo=UTC)
    return Message(public_id=key, logical_key=key, kind=kind, candidate_id=app.candidate_id,
                   application_id=app.id, state="pending", due_at=now, template_name="rejection",
                   template_version="v1")


def _rejected(engine: Engine) -> int:
    with session_scope(engine) as s:
        cand = Candidate(email_key="c@example.com")
        s.add(cand)
        s.flush()
        app = Application(source="csv", external_id="A1", candidate_id=cand.id, status="rejected",
                          applied_at=datetime(2026, 9, 1, tzinfo=UTC),
                          decided_at=datetime(2026, 10, 5, tzinfo=UTC), content_hash="x")
        s.add(app)
        s.flush()
        s.add(_notice(app, f"application:{app.id}:rejection"))
        return app.id


def test_a_second_rejection_notice_for_one_application_is_refused(engine: Engine) -> None:
    app_id = _rejected(engine)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        app = s.get(Application, app_id)
        assert app is not None
        s.add(_notice(app, "another-key"))


def test_other_kinds_of_message_for_the_same_application_are_not_limited(engine: Engine) -> None:
    app_id = _rejected(engine)
    with session_scope(engine) as s:
        app = s.get(Application, app_id)
        assert app is not None
        s.add_all([_notice(app, "w1", kind="withdrawal"), _notice(app, "w2", kind="withdrawal")])
    with session_scope(engine) as s:
        assert s.query(Message).filter(Message.application_id == app_id).count() == 3
