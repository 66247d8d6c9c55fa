"""Engagement tables: provider events, tracked-link clicks and suppression-sync watermarks.

Data minimisation: none of these tables holds an e-mail address, an IP address or a user agent. Events keep a
SHA-256 of the normalised address (enough to correlate an event with a suppression) and the provider's
payload with the address, IP, user agent and any address-like text removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow

#: Where an event came from: SendGrid's webhook, or our own one-click unsubscribe endpoint.
EVENT_SOURCES = ("sendgrid", "junkan")


class EmailEvent(Base):
    """Every delivery/engagement event we acknowledged, stored before the 2xx answer.

    Indexes are few on purpose: every one costs on each of the thousands of rows a webhook batch inserts.
    """

    __tablename__ = "email_event"
    __table_args__ = (
        Index("ix_email_event_message_event", "message_id", "event"),
        # Daily reconciliation and counts scan by arrival; arrival order keeps this index append-only.
        Index("ix_email_event_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: SendGrid's event id (or a derived one for our own events): the first de-duplication key.
    sg_event_id: Mapped[str] = mapped_column(String(128), unique=True)
    #: sha256 of "message|event|timestamp" (plus the URL for clicks): catches re-sends under a new event id.
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    #: The X-Message-Id part of sg_message_id, kept so events that arrived early can be attached later.
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="sendgrid")
    #: sha256 of the normalised address, never the address itself.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)


#: Who fetched a tracked link: the person it was mailed to, or a mail scanner (junkan/engagement/clicks.py).
CLICK_KINDS = ("person", "scanner")


class Click(Base):
    """One row per message, link and kind of fetcher: a person's repeated clicks on one link are one row
    (the KPIs count people, not fetches), with the fetches counted beside it. Scanner fetches are kept
    apart under `kind = 'scanner'`. Deliberately no IP address and no user agent."""

    __tablename__ = "click"
    __table_args__ = (
        UniqueConstraint("message_id", "link", "kind", name="uq_click_message_link_kind"),
        CheckConstraint("kind IN ('person', 'scanner')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    #: The link name from the signed token: "partner", "job:<id>", "unsubscribe" …
    link: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default="person", server_default="person")
    #: The first fetch: the moment the KPIs count.
    clicked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    fetches: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SuppressionSync(Base):
    """How far each provider suppression list has been merged (the next `start_time`)."""

    __tablename__ = "suppression_sync"

    list_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Newest `created` seen on that list; the next sync asks from here (inclusive, so nothing is skipped).
    watermark: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_fetched: Mapped[int] = mapped_column(Integer, default=0)
    last_added: Mapped[int] = mapped_column(Integer, default=0)
