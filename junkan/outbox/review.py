"""Operator review of the outbox: list messages by state, and settle `unknown` ones by hand.

A message lands in `unknown` when a run died between marking it `sending` and recording the provider's
answer. Only a person (looking at the provider's activity feed, or asking the candidate) can say whether
it went out, so the tools here show opaque ids, kinds, states and errors - never addresses or names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from junkan.db.models import Message, MessageState
from junkan.db.results import rows_affected
from junkan.db.types import utcnow

Resolution = Literal["sent", "resend"]


class ReviewError(ValueError):
    """The operator asked for something the message's state does not allow."""


@dataclass(frozen=True, slots=True)
class MessageSummary:
    public_id: str
    kind: str
    state: str
    due_at: datetime
    attempts: int
    error_code: str | None
    error: str | None
    updated_at: datetime


def list_messages(
    session: Session, *, states: Sequence[str] | None = None, kinds: Sequence[str] | None = None,
    limit: int = 200,
) -> list[MessageSummary]:
    for state in states or ():
        if state not in tuple(MessageState):
            raise ReviewError(f"unknown state {state!r}; one of {', '.join(MessageState)}")
    stmt = select(Message.public_id, Message.kind, Message.state, Message.due_at, Message.attempts,
                  Message.last_error_code, Message.last_error, Message.updated_at)
    if states:
        stmt = stmt.where(Message.state.in_(list(states)))
    if kinds:
        stmt = stmt.where(Message.kind.in_(list(kinds)))
    stmt = stmt.order_by(Message.due_at, Message.id).limit(limit)
    return [MessageSummary(*row) for row in session.execute(stmt)]


def state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Message.state, func.count()).group_by(Message.state))
    return {state: int(n) for state, n in rows}


def resolve(session: Session, public_id: str, resolution: Resolution, *, now: datetime | None = None) -> str:
    """Settle one `unknown` message: `sent` -> `accepted` (it went out), `resend` -> `pending` (it did not;
    the next run sends it). Returns the new state. Only `unknown` messages can be resolved, so a second
    resolve, or one racing a run, changes nothing."""
    if resolution not in ("sent", "resend"):
        raise ReviewError("resolution must be 'sent' or 'resend'")
    now = now or utcnow()
    new_state = MessageState.ACCEPTED if resolution == "sent" else MessageState.PENDING
    values: dict[str, object] = {"state": new_state, "resolution": resolution, "resolved_at": now,
                                 "updated_at": now, "lease_owner": None, "lease_until": None}
    if resolution == "sent":
        # It went out when it was handed over, not when someone looked: partner referrals registered in
        # between must not look as if they came before the mail.
        values["accepted_at"] = func.coalesce(Message.sending_at, now)
    res = session.execute(
        update(Message).where(Message.public_id == public_id, Message.state == MessageState.UNKNOWN)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not rows_affected(res):
        state = session.scalar(select(Message.state).where(Message.public_id == public_id))
        if state is None:
            raise ReviewError(f"no message with id {public_id!r}")
        raise ReviewError(f"message {public_id} is {state!r}; only 'unknown' messages can be resolved")
    return new_state
