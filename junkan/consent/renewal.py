"""Renewing `talent_pool` consent before it lapses: who is asked, and recording the answer (docs/privacy.md).

`consent.renewal_days_before` days before a person's current `talent_pool` grant expires, one
`consent_renewal` mail is enqueued through the outbox (junkan/outbox/renewal_mail.py, which asks the send
gate, junkan/outbox/gate.py, who may be mailed) — once per consent record (the logical key names it).
This module holds the consent side: which grants are lapsing (`lapsing_grant`) and recording the answer.

The mail's signed link (junkan/links.py, expires) leads to a page (junkan/web/renewal_page.py): GET shows
the wording and changes nothing; POST records a fresh grant with source `link`, the page's wording version
and a new expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.consent.state import is_current
from junkan.consent.wording import RENEWAL_WORDING_VERSION
from junkan.db.models import Consent, Message

RENEWAL_KIND = "consent_renewal"
PURPOSE = "talent_pool"
#: Source of a consent given through the renewal link.
LINK_SOURCE = "link"


def lapsing_grant(record: Any, now: datetime, consent: ConsentSettings) -> ColumnElement[bool]:
    """`record` (Consent or an alias) is the current `talent_pool` grant and it lapses within the next
    `renewal_days_before` days: the grants a renewal mail asks about."""
    return and_(record.purpose == PURPOSE, record.granted.is_(True), is_current(record, now),
                record.expires_at.is_not(None),
                record.expires_at <= now + timedelta(days=consent.renewal_days_before))


@dataclass(frozen=True, slots=True)
class RenewalTarget:
    """The renewal mail behind a link: whose consent, in which language. Opaque ids only."""

    message_id: int
    candidate_id: int
    locale: str
    sent_at: datetime


def renewal_target(session: Session, public_id: str) -> RenewalTarget | None:
    """The `consent_renewal` message a link names; None for any other message or an unknown id."""
    row = session.execute(
        select(Message.id, Message.candidate_id, Message.locale, Message.created_at)
        .where(Message.public_id == public_id, Message.kind == RENEWAL_KIND)
    ).first()
    if row is None:
        return None
    return RenewalTarget(message_id=row.id, candidate_id=row.candidate_id, locale=row.locale or "ja",
                         sent_at=row.created_at)


@dataclass(frozen=True, slots=True)
class Renewed:
    #: False when this link had renewed the consent already (the repeat added nothing).
    recorded: bool
    #: When the renewed grant lapses; None = never (no talent-pool validity configured).
    expires_at: datetime | None


def record_renewal(session: Session, target: RenewalTarget, consent: ConsentSettings, now: datetime,
                   *, wording_version: str = RENEWAL_WORDING_VERSION) -> Renewed:
    """Record the grant the renewal page's button gives, once per link.

    A repeated POST (double click, a retry) finds the grant it wrote - current, from the link, recorded
    after the mail - and adds nothing.
    """
    done = session.execute(select(Consent.id, Consent.expires_at).where(
        Consent.candidate_id == target.candidate_id, Consent.purpose == PURPOSE,
        Consent.source == LINK_SOURCE, Consent.recorded_at >= target.sent_at, is_current(Consent, now),
        Consent.granted.is_(True),
    ).limit(1)).first()
    if done is not None:
        return Renewed(recorded=False, expires_at=done.expires_at)
    until = expires_at(PURPOSE, True, now, consent)
    session.add(Consent(candidate_id=target.candidate_id, purpose=PURPOSE, granted=True, recorded_at=now,
                        source=LINK_SOURCE, wording_version=wording_version, expires_at=until))
    session.flush()
    return Renewed(recorded=True, expires_at=until)


__all__ = [
    "LINK_SOURCE",
    "PURPOSE",
    "RENEWAL_KIND",
    "RenewalTarget",
    "Renewed",
    "lapsing_grant",
    "record_renewal",
    "renewal_target",
]
