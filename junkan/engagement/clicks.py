"""Tracked links: record a click and compute where it leads.

The destination is always computed here from the message row and configuration, never taken from the token
or the request, so a link can only ever lead where our own mail meant it to (no open redirect).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.config import PartnerSettings
from junkan.db.models import Job, Message
from junkan.db.models_engagement import Click

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


def resolve_link(
    session: Session, public_id: str, link: str, *, partners: Sequence[PartnerSettings],
    job_url_template: str | None,
) -> LinkTarget | None:
    """Where the link `link` of message `public_id` leads; None when it leads nowhere valid."""
    message = session.execute(
        select(Message.id, Message.ref_code, Message.partner_name).where(Message.public_id == public_id)
    ).first()
    if message is None:
        return None
    message_id, ref_code, partner_name = message
    if link == UNSUBSCRIBE_LINK:
        return LinkTarget(message_id, public_id, None)
    if link == PARTNER_LINK:
        url = partner_url(partners, partner_name, ref_code)
    elif link.startswith(JOB_LINK_PREFIX):
        url = _job_url(session, link.removeprefix(JOB_LINK_PREFIX), job_url_template)
    else:
        url = None
    return LinkTarget(message_id, public_id, url) if url else None


def record_click(session: Session, message_id: int, link: str, *, at: datetime) -> None:
    """One row: message, link name, time. No IP address, no user agent, nothing else (data minimisation)."""
    session.add(Click(message_id=message_id, link=link[:64], clicked_at=at))


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
