"""Moving outbox messages between states from outside the send loop: the one way other packages do it.

Only `junkan/outbox/` writes `message.state` (tests/unit/test_message_state_owner.py). Ingest, the opt-out,
anonymisation and the outbox's own enqueue steps cancel through `cancel`, which also clears the lease, so
a cancelled row never looks claimed; the send loop's own transitions (claim, `sending`, outcomes) stay in
`sender.py` / `claim.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, update
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.models import Message, MessageState
from junkan.db.results import rows_affected

__all__ = ["CANCELLABLE", "MessageState", "cancel", "cancel_ids"]

#: A message can be cancelled only while nobody may be sending it: a `sending` row belongs to an outbox
#: worker, which settles it itself (and re-checks the gate just before its provider call).
CANCELLABLE: tuple[MessageState, ...] = (MessageState.PENDING,)


def cancel(db: Session | Connection, *where: ColumnElement[Any], reason: str, now: datetime,
           state: MessageState = MessageState.CANCELLED) -> int:
    """Move the cancellable messages matching `where` to `state` (`cancelled`, or `suppressed` for the
    suppression list) with `reason` in `cancelled_reason`, releasing any lease; returns how many moved."""
    if state not in (MessageState.CANCELLED, MessageState.SUPPRESSED):
        raise ValueError(f"cancel moves a message to cancelled or suppressed, not {state}")
    stmt = (
        update(Message)
        .where(Message.state.in_(CANCELLABLE), *where)
        .values(state=state, cancelled_reason=reason, lease_owner=None, lease_until=None, updated_at=now)
    )
    if isinstance(db, Session):
        stmt = stmt.execution_options(synchronize_session=False)
    return rows_affected(db.execute(stmt)) or 0


def cancel_ids(db: Session | Connection, ids: Sequence[int], *, reason: str, now: datetime,
               state: MessageState = MessageState.CANCELLED) -> int:
    """`cancel` for the given message ids (chunked IN lists)."""
    return sum(cancel(db, Message.id.in_(part), reason=reason, now=now, state=state)
               for part in batched(list(ids), 1000))
