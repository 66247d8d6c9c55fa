"""Cancelling pending messages in bulk: one UPDATE, with the reason an operator reads later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from junkan.db.models import Message
from junkan.db.results import rows_affected


def cancel_pending(session: Session, *where: ColumnElement[Any], reason: str, now: datetime) -> int:
    """Cancel the `pending` messages matching `where`; returns how many.

    Only `pending` rows: a `sending` one belongs to an outbox worker, which settles it itself.
    """
    res = session.execute(
        update(Message)
        .where(Message.state == "pending", *where)
        .values(state="cancelled", cancelled_reason=reason, lease_owner=None, lease_until=None,
                updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(res) or 0
