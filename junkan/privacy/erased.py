"""Whether a signed link still speaks for a person we hold: the one check every link endpoint makes.

A link mailed before its person was anonymised or erased names no one any more. It must record nothing
(no consent, no opt-out, no click) and answer exactly as an unknown link does, so that it neither
revives the person nor tells the holder of the link that an erasure took place (docs/privacy.md).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.db.models import Candidate, Message


class LinkHolder(NamedTuple):
    candidate_id: int
    locale: str


def link_holder(session: Session, public_id: str) -> LinkHolder | None:
    """The person message `public_id` was sent to, unless the message is unknown or the person was
    anonymised or erased.

    On PostgreSQL the candidate row is share-locked until the caller's transaction ends: an erasure
    running at the same moment waits for it, or has committed and is seen, so nothing is recorded for
    a person erased in between. (SQLite has one writer at a time.)
    """
    row = session.execute(
        select(Candidate.id, Message.locale).join(Message, Message.candidate_id == Candidate.id)
        .where(Message.public_id == public_id, Candidate.anonymized_at.is_(None))
        .with_for_update(read=True, of=Candidate)
    ).first()
    return None if row is None else LinkHolder(row.id, row.locale or "ja")
