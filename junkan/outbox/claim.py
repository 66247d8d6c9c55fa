"""Claiming outbox rows so that two senders never take the same message (docs/outbox.md "Sending").

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` picks rows no other transaction holds, and the lease written
in the same transaction keeps them ours after the commit. SQLite has no row locks: one conditional
`UPDATE … WHERE state='pending' AND (lease_until IS NULL OR lease_until < now)` is atomic under SQLite's
single writer, so the lease alone decides. Either way every claim is committed before anything is sent.

The lease uses the wall clock (never an injected business "now"): a re-run of a past day and the live
run must agree on whose lease is still valid.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from junkan.config import MailSettings
from junkan.db.models import Message
from junkan.db.results import rows_affected

if TYPE_CHECKING:
    from junkan.outbox.render import Prepared

#: Floor of a lease, and the margin added on top of one send's worst case.
MIN_LEASE = timedelta(minutes=15)
LEASE_MARGIN = timedelta(minutes=5)


def send_budget(mail: MailSettings) -> timedelta:
    """The longest one backend call may take with every retry used: each attempt may run into the socket
    timeout (twice: connect, then the answer), 429s wait up to `rate_limit_max_wait_s` each, other
    failures back off exponentially (`jittered_backoff` waits at most its ceiling, counted here)."""
    attempts = 1 + max(mail.max_retries, 0) + max(mail.rate_limit_retries, 0)
    backoff = sum(min(mail.backoff_max_s, mail.backoff_base_s * 2 ** (n - 1))
                  for n in range(1, max(mail.max_retries, 0) + 1))
    seconds = attempts * 2 * mail.timeout_s + max(mail.rate_limit_retries, 0) * mail.rate_limit_max_wait_s
    return timedelta(seconds=seconds + backoff)


def lease_for(mail: MailSettings) -> timedelta:
    """Default lease: a send that uses its whole retry budget, plus one queued behind it, plus a margin.
    The sender also extends the leases of its rows while they wait (see `extend_leases`), so this only
    has to outlast the gaps between refreshes."""
    return max(MIN_LEASE, 2 * send_budget(mail) + LEASE_MARGIN)


def new_owner() -> str:
    """A lease owner id: host and random suffix, unique per send run (no personal data)."""
    return f"{socket.gethostname()[:40]}:{secrets.token_hex(6)}"


def _lease_free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(Message.lease_until.is_(None), Message.lease_until < now)


def _due_pending(due_by: datetime, kinds: Sequence[str], wall: datetime):  # type: ignore[no-untyped-def]
    return and_(Message.state == "pending", Message.kind.in_(kinds), Message.due_at <= due_by,
                _lease_free(wall))


def claim_batch(
    session: Session,
    *,
    owner: str,
    due_by: datetime,
    wall: datetime,
    limit: int,
    kinds: Sequence[str],
    lease: timedelta = MIN_LEASE,
) -> list[int]:
    """Lease up to `limit` due pending messages to `owner` and commit; returns their ids, oldest due first."""
    until = wall + lease
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(
            select(Message.id)
            .where(_due_pending(due_by, kinds, wall))
            .order_by(Message.due_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if ids:
            session.execute(
                update(Message).where(Message.id.in_(ids))
                .values(lease_owner=owner, lease_until=until)
                .execution_options(synchronize_session=False)
            )
    else:
        pick = (
            select(Message.id)
            .where(_due_pending(due_by, kinds, wall))
            .order_by(Message.due_at, Message.id)
            .limit(limit)
            .scalar_subquery()
        )
        ids = list(session.scalars(
            update(Message)
            .where(Message.id.in_(pick), _due_pending(due_by, kinds, wall))
            .values(lease_owner=owner, lease_until=until)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        ))
    session.commit()
    return sorted(ids)


def extend_leases(session: Session, owner: str, ids: Sequence[int], *, until: datetime) -> list[int]:
    """Push the lease of `owner`'s rows among `ids` (pending or sending) out to `until` and commit, so a
    concurrent run neither claims them nor takes them for crash leftovers while they wait in the pool.
    Returns the ids still ours."""
    if not ids:
        return []
    kept = list(session.scalars(
        update(Message)
        .where(Message.id.in_(list(ids)), Message.lease_owner == owner,
               Message.state.in_(("pending", "sending")))
        .values(lease_until=until)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    return kept


def release_leases(session: Session, owner: str, ids: Sequence[int] | None = None) -> int:
    """Give back leases on rows still `pending` (claimed but not sent), so the next run need not wait."""
    cond = [Message.lease_owner == owner, Message.state == "pending"]
    if ids is not None:
        if not ids:
            return 0
        cond.append(Message.id.in_(list(ids)))
    res = session.execute(
        update(Message).where(*cond).values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return rows_affected(res) or 0


def mark_stale_sending_unknown(session: Session, *, wall: datetime,
                               kinds: Sequence[str] | None = None) -> list[str]:
    """Rows left in `sending` past their lease are crash leftovers: the provider may or may not have
    accepted them, so they become `unknown` for review and are never re-sent automatically.

    Returns the public ids marked. A row whose lease is still running belongs to a live sender.
    """
    cond = [Message.state == "sending", or_(Message.lease_until.is_(None), Message.lease_until < wall)]
    if kinds is not None:
        cond.append(Message.kind.in_(list(kinds)))
    marked = list(session.scalars(
        update(Message).where(*cond)
        .values(state="unknown", last_error_code="crash",
                last_error="left in 'sending' by an interrupted run; the provider may have accepted it",
                lease_owner=None, lease_until=None, updated_at=wall)
        .returning(Message.public_id)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    return marked


class LeaseKeeper:
    """Keeps one run's claimed rows its own while they wait in or on the send pool: their leases are pushed
    out once a quarter of the lease has passed, so a concurrent run never takes a queued or slow send for a
    crash leftover (the queued chunk may sit behind one whose sends spend their whole retry budget)."""

    def __init__(self, engine: Engine, owner: str, lease: timedelta, *, clock: Callable[[], datetime],
                 hook: Callable[[str, Sequence[str]], None]) -> None:
        self.engine = engine
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.hook = hook
        self._extend_every = lease / 4
        self._extended_at: datetime | None = None

    def keep(self, inflight: Sequence[Prepared]) -> None:
        """Extend the leases of `inflight` (the rows handed to the pool) when they are due."""
        wall = self.clock()
        if self._extended_at is None:
            self._extended_at = wall  # rows marked in this run got a full lease when they were marked
            return
        if wall - self._extended_at < self._extend_every or not inflight:
            return
        ids = [p.row.message_id for p in inflight if p.row.message_id is not None]
        if not ids:
            return
        with Session(self.engine) as session:
            kept = set(extend_leases(session, self.owner, ids, until=wall + self.lease))
        self._extended_at = wall
        self.hook("lease_extended", [p.row.public_id for p in inflight if p.row.message_id in kept])

    def release(self) -> None:
        """Give back the leases on this run's rows still `pending` (claimed, never handed over)."""
        with Session(self.engine) as session:
            release_leases(session, self.owner)
