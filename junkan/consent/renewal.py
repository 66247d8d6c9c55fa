"""Renewing `talent_pool` consent before it lapses: who is asked, and recording the answer (docs/privacy.md).

`consent.renewal_days_before` days before a person's current `talent_pool` grant expires, one
`consent_renewal` mail is enqueued through the outbox — once per consent record (the logical key names it),
so repeated runs add nothing. Nobody is asked who:
- has no current grant (withdrawn, lapsed, never given) or whose grant expires later;
- opted out of advertising (current `recontact` is a withdrawal: the one-click unsubscribe writes it, and
  without re-contact a pool membership serves nothing), or of all mail (`all_mail`), or is suppressed;
- is anonymised or has no address.
Before the send run, pending renewals that became moot (renewed meanwhile, opted out) are cancelled.

The mail's signed link (junkan/links.py, expires) leads to a page (junkan/web/renewal_page.py): GET shows
the wording and changes nothing; POST records a fresh grant with source `link`, the page's wording version
and a new expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session, aliased

from junkan.batching import batched
from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.consent.state import is_current, is_withdrawn
from junkan.consent.wording import RENEWAL_WORDING_VERSION
from junkan.db.dialect import insert_ignore
from junkan.db.models import Candidate, Consent, Message
from junkan.engagement.optout import ALL_MAIL
from junkan.engagement.suppressed import suppressed_among
from junkan.outbox.cancel import cancel_pending
from junkan.outbox.enqueue import EnqueueTally, new_public_id

RENEWAL_KIND = "consent_renewal"
PURPOSE = "talent_pool"
#: Source of a consent given through the renewal link.
LINK_SOURCE = "link"
CANCEL_MOOT = "renewal_not_needed"
_INSERT_CHUNK = 1000


def logical_key(consent_id: int) -> str:
    return f"consent:{consent_id}:{RENEWAL_KIND}"


@dataclass
class RenewalEnqueue(EnqueueTally):
    ORDER = ("expiring", "enqueued", "already", "opted_out", "suppressed", "no_address")
    RENAMED: ClassVar[Mapping[str, str]] = {"already": "already_asked"}

    #: Current grants expiring within the renewal window.
    expiring: int = 0
    #: Asked already by an earlier run (same consent record).
    already: int = 0
    opted_out: int = 0


def _opted_out(candidate_id: ColumnElement[Any] | Any, now: datetime) -> ColumnElement[bool]:
    return or_(is_withdrawn(candidate_id, "recontact", now), is_withdrawn(candidate_id, ALL_MAIL, now))


def _window(record: Any, now: datetime, consent: ConsentSettings) -> ColumnElement[bool]:
    """`record` is the current grant and it lapses within the next `renewal_days_before` days."""
    return and_(record.purpose == PURPOSE, record.granted.is_(True), is_current(record, now),
                record.expires_at.is_not(None),
                record.expires_at <= now + timedelta(days=consent.renewal_days_before))


def enqueue_renewals(session: Session, consent: ConsentSettings, now: datetime, *, key: bytes,
                     dry_run: bool = False) -> RenewalEnqueue:
    """Enqueue one `consent_renewal` per expiring grant not asked about yet (nothing when disabled).

    `key` is `retention.hash_key`: the suppression list holds keyed hashes of the addresses."""
    result = RenewalEnqueue()
    if not consent.renewal_enabled:
        return result
    rows = session.execute(
        select(Consent.id, Consent.candidate_id, Candidate.locale, Candidate.email_key,
               Candidate.anonymized_at, _opted_out(Consent.candidate_id, now).label("opted_out"))
        .join(Candidate, Candidate.id == Consent.candidate_id)
        .where(_window(Consent, now, consent))
        .order_by(Consent.expires_at, Consent.id)
    ).all()
    suppressed = suppressed_among(session, (r.email_key for r in rows), key)
    asked: set[str] = set()
    for keys in batched([logical_key(r.id) for r in rows], _INSERT_CHUNK):
        asked.update(session.scalars(select(Message.logical_key).where(Message.logical_key.in_(keys))))
    planned: list[dict[str, Any]] = []
    for r in rows:
        result.expiring += 1
        if logical_key(r.id) in asked:
            result.already += 1
        elif r.opted_out:
            result.opted_out += 1
        elif r.email_key in suppressed:
            result.suppressed += 1
        elif r.anonymized_at is not None or not r.email_key:
            result.no_address += 1
        else:
            planned.append({"logical_key": logical_key(r.id), "candidate_id": r.candidate_id,
                            "locale": r.locale or "ja"})
    if dry_run:
        result.enqueued = len(planned)
        return result
    for start in range(0, len(planned), _INSERT_CHUNK):
        chunk = [{**p, "public_id": new_public_id(), "kind": RENEWAL_KIND, "application_id": None,
                  "state": "pending", "due_at": now, "advertising": True, "attempts": 0,
                  "created_at": now, "updated_at": now} for p in planned[start:start + _INSERT_CHUNK]]
        insert = insert_ignore(session, Message.__table__).returning(Message.__table__.c.id)
        inserted = session.execute(insert, chunk).scalars().all()
        result.enqueued += len(inserted)
        result.already += len(chunk) - len(inserted)
    return result


def cancel_moot_renewals(session: Session, consent: ConsentSettings, now: datetime) -> int:
    """Pending renewals of people renewed meanwhile (no grant lapsing soon any more) or opted out."""
    record = aliased(Consent)
    still_lapsing = select(record.id).where(record.candidate_id == Message.candidate_id,
                                            _window(record, now, consent)).exists()
    stale = select(Message.id).where(
        Message.kind == RENEWAL_KIND, or_(not_(still_lapsing), _opted_out(Message.candidate_id, now)),
    )
    return cancel_pending(session, Message.id.in_(stale), reason=CANCEL_MOOT, now=now)


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
    "CANCEL_MOOT",
    "LINK_SOURCE",
    "RENEWAL_KIND",
    "RenewalEnqueue",
    "RenewalTarget",
    "Renewed",
    "cancel_moot_renewals",
    "enqueue_renewals",
    "logical_key",
    "record_renewal",
    "renewal_target",
]
