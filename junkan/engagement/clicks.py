"""Tracked links: record a fetch and compute where it leads.

The destination is always computed here from the message row and configuration, never taken from the token
or the request, so a link can only ever lead where our own mail meant it to (no open redirect).

A fetch is not always a person. Corporate mail scanners fetch every link of a mail within seconds of its
delivery, link checkers send HEAD, and a person may reload a page ten times. So fetches are recorded as
one row per message, link and kind (`person` or `scanner`), with their number: the KPIs count `person`
rows, one per person and link (docs/kpis.md). The redirect is the same for every fetch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from junkan.config import LinkSettings, PartnerSettings
from junkan.db.dialect import conflict_insert
from junkan.db.models import Job, Message
from junkan.db.models_engagement import Click
from junkan.db.types import UtcDateTime

ClickKind = Literal["person", "scanner"]

PARTNER_LINK = "partner"
UNSUBSCRIBE_LINK = "unsubscribe"
JOB_LINK_PREFIX = "job:"
_JOB_ID_RE = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class LinkTarget:
    message_id: int
    public_id: str
    #: Absolute URL of an outside destination, or None for the unsubscribe page (built by the web layer).
    url: str | None
    #: When the mail reached the recipient's server (the `delivered` event), else when the provider took it.
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScannerRules:
    """When a fetch is a mail scanner's rather than the person's (settings `links.scanner_*`)."""

    #: A fetch this soon after delivery: scanners fetch as the mail arrives, people read it later.
    after_delivery: timedelta
    #: Another link of the same mail fetched this close before: a scanner opening every link at once.
    burst: timedelta

    @classmethod
    def from_settings(cls, links: LinkSettings) -> ScannerRules:
        return cls(after_delivery=timedelta(seconds=links.scanner_after_delivery_s),
                   burst=timedelta(seconds=links.scanner_burst_s))


def resolve_link(
    session: Session, public_id: str, link: str, *, partners: Sequence[PartnerSettings],
    job_url_template: str | None,
) -> LinkTarget | None:
    """Where the link `link` of message `public_id` leads; None when it leads nowhere valid."""
    message = session.execute(
        select(Message.id, Message.ref_code, Message.partner_name,
               # Typed, so the result converts like the columns do (naive UTC text on SQLite).
               func.coalesce(Message.delivered_at, Message.accepted_at, type_=UtcDateTime()))
        .where(Message.public_id == public_id)
    ).first()
    if message is None:
        return None
    message_id, ref_code, partner_name, delivered_at = message
    if link == UNSUBSCRIBE_LINK:
        return LinkTarget(message_id, public_id, None, delivered_at)
    if link == PARTNER_LINK:
        url = partner_url(partners, partner_name, ref_code)
    elif link.startswith(JOB_LINK_PREFIX):
        url = _job_url(session, link.removeprefix(JOB_LINK_PREFIX), job_url_template)
    else:
        url = None
    return LinkTarget(message_id, public_id, url, delivered_at) if url else None


def record_click(
    session: Session, target: LinkTarget, link: str, *, at: datetime, head: bool, rules: ScannerRules
) -> ClickKind:
    """Count one fetch of `link` (a name the signed token carried, at most 64 characters) and say whose it
    was. Message, link name and times only: no IP address, no user agent (data minimisation)."""
    mid = target.message_id
    # A scanner fetches a mail's links concurrently: take one mail's fetches one at a time, so each sees
    # the ones before it (a row lock on PostgreSQL; SQLite has one writer, and the web app queues its own).
    session.execute(select(Message.id).where(Message.id == mid).with_for_update(key_share=True))
    since = at - rules.burst
    others = session.execute(
        select(Click.id, Click.link, Click.kind, Click.clicked_at, Click.last_at, Click.fetches)
        .where(Click.message_id == mid, Click.link != link, Click.last_at >= since)
    ).all()
    delivered = target.delivered_at
    scanner = head or bool(others) or (delivered is not None and at - delivered < rules.after_delivery)
    kind: ClickKind = "scanner" if scanner else "person"
    if others:
        # The burst's earlier fetches, taken for a person's until now, were the scanner's too.
        for row in others:
            if row.kind == "person" and row.clicked_at >= since:
                _count(session, mid, row.link, "scanner", row.clicked_at, row.last_at, row.fetches)
                session.execute(delete(Click).where(Click.id == row.id))
    _count(session, mid, link, kind, at, at, 1)
    return kind


def _count(session: Session, message_id: int, link: str, kind: ClickKind, first: datetime, last: datetime,
           fetches: int) -> None:
    """Add `fetches` fetches between `first` and `last` to the row of (message, link, kind)."""
    insert = conflict_insert(session, Click)
    new = insert.excluded
    session.execute(
        insert.values(message_id=message_id, link=link[:64], kind=kind, clicked_at=first, last_at=last,
                      fetches=fetches)
        .on_conflict_do_update(
            index_elements=["message_id", "link", "kind"],
            set_={"fetches": Click.fetches + new.fetches,
                  "clicked_at": case((new.clicked_at < Click.clicked_at, new.clicked_at),
                                     else_=Click.clicked_at),
                  "last_at": case((new.last_at > Click.last_at, new.last_at), else_=Click.last_at)},
        )
    )


def partner_url(
    partners: Sequence[PartnerSettings], partner_name: str | None, ref_code: str | None
) -> str | None:
    if not ref_code:
        return None
    if partner_name:
        partner = next((p for p in partners if p.name == partner_name), None)
    else:
        # Messages from before multi-partner configuration carry no name; only then is a lone partner implied.
        partner = partners[0] if len(partners) == 1 else None
    if partner is None:
        return None
    return with_query(partner.landing_url, ref=ref_code)


def with_query(url: str, **params: str) -> str | None:
    """`url` with `params` set (replacing same-named ones); None unless it is an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _job_url(session: Session, job_ref: str, template: str | None) -> str | None:
    # ASCII digits that fit a bigint: str.isdigit() also accepts '²', which int() refuses.
    if not template or not _JOB_ID_RE.fullmatch(job_ref):
        return None
    job = session.execute(select(Job.id, Job.source, Job.external_id).where(Job.id == int(job_ref))).first()
    if job is None:
        return None
    job_id, source, external_id = job
    url = template.format(job_id=job_id, source=quote(source, safe=""),
                          external_id=quote(external_id, safe=""))
    return with_query(url)
