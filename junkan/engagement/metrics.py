"""Engagement metrics for the reports: per message, and per kind, template and period.

Each message counts at most once per metric, so rates are "share of messages": delivered, bounced, opened,
clicked and unsubscribed. Evidence comes from the stored provider events, our own tracked-link clicks
(clicks on the unsubscribe link excluded; a mail scanner's fetch proves delivery, not a click) and one-click
unsubscribes, and from the message state itself for
backends that send no events (SMTP, file).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlalchemy.orm import Session

from junkan.db.models import Message
from junkan.db.models_engagement import Click, EmailEvent
from junkan.db.types import UtcDateTime
from junkan.engagement.clicks import UNSUBSCRIBE_LINK

Period = Literal["day", "week", "month"]


@dataclass(frozen=True, slots=True)
class MessageEngagement:
    message_id: int
    kind: str
    template_name: str | None
    sent_at: datetime
    delivered: bool
    bounced: bool
    opened: bool
    clicked: bool
    unsubscribed: bool


@dataclass(frozen=True, slots=True)
class EngagementRow:
    kind: str
    template_name: str | None
    #: First day of the period (local time): the day, the Monday of the week, or the 1st of the month.
    period_start: date
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.max(case((condition, 1), else_=0))


def message_engagement(session: Session, start: datetime, end: datetime) -> Iterator[MessageEngagement]:
    """Every message handed to the provider in [start, end), with what happened to it."""
    ev = (
        select(
            EmailEvent.message_id.label("mid"),
            _flag(EmailEvent.event == "delivered").label("delivered"),
            _flag(EmailEvent.event == "bounce").label("bounced"),
            _flag(EmailEvent.event == "open").label("opened"),
            _flag(EmailEvent.event == "click").label("clicked"),
            _flag(EmailEvent.event.in_(("unsubscribe", "group_unsubscribe"))).label("unsubscribed"),
        )
        .where(EmailEvent.message_id.is_not(None))
        .group_by(EmailEvent.message_id)
        .subquery()
    )
    clicks = (
        select(Click.message_id.label("mid"), func.count().label("n"),
               func.sum(case((Click.kind == "person", 1), else_=0)).label("people"))
        .where(Click.link != UNSUBSCRIBE_LINK)
        .group_by(Click.message_id)
        .subquery()
    )
    # Typed, so bound limits and results convert like the columns do (naive UTC text on SQLite).
    sent_at = func.coalesce(Message.accepted_at, Message.sending_at, type_=UtcDateTime())
    query = (
        select(
            Message.id, Message.kind, Message.template_name, sent_at.label("sent_at"), Message.state,
            func.coalesce(ev.c.delivered, 0).cast(Integer), func.coalesce(ev.c.bounced, 0).cast(Integer),
            func.coalesce(ev.c.opened, 0).cast(Integer), func.coalesce(ev.c.clicked, 0).cast(Integer),
            func.coalesce(ev.c.unsubscribed, 0).cast(Integer), func.coalesce(clicks.c.n, 0),
            func.coalesce(clicks.c.people, 0),
        )
        .outerjoin(ev, ev.c.mid == Message.id)
        .outerjoin(clicks, clicks.c.mid == Message.id)
        .where(sent_at >= start, sent_at < end)
        .order_by(Message.id)
    )
    for mid, kind, template, at, state, delivered, bounced, opened, clicked, unsub, fetched, own_clicks in (
        session.execute(query).yield_per(5000)
    ):
        # Opens and clicks prove delivery even when the delivered event itself was lost; so does a
        # scanner's fetch, made as the mail reached the recipient's server.
        engaged = bool(opened or clicked or fetched)
        yield MessageEngagement(
            message_id=mid, kind=kind, template_name=template, sent_at=at,
            delivered=bool(delivered) or state == "delivered" or engaged,
            bounced=bool(bounced) or state == "bounced",
            opened=bool(opened), clicked=bool(clicked or own_clicks), unsubscribed=bool(unsub),
        )


def engagement_summary(
    session: Session, start: date, end: date, *, period: Period = "month", timezone: str = "Asia/Tokyo"
) -> list[EngagementRow]:
    """Counts per (kind, template, period) for messages sent from `start` to `end` inclusive (local dates)."""
    tz = ZoneInfo(timezone)
    lo = datetime.combine(start, datetime.min.time(), tz)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    totals: dict[tuple[str, str | None, date], dict[str, int]] = {}
    for m in message_engagement(session, lo, hi):
        key = (m.kind, m.template_name, period_start(m.sent_at.astimezone(tz).date(), period))
        row = totals.setdefault(key, dict.fromkeys(("sent", "delivered", "bounced", "opened", "clicked",
                                                    "unsubscribed"), 0))
        row["sent"] += 1
        row["delivered"] += m.delivered
        row["bounced"] += m.bounced
        row["opened"] += m.opened
        row["clicked"] += m.clicked
        row["unsubscribed"] += m.unsubscribed
    ordered = sorted(totals.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or ""))
    return [EngagementRow(kind=k, template_name=t, period_start=p, **counts) for (k, t, p), counts in ordered]


def period_start(day: date, period: Period) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")

