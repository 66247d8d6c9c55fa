"""The two steps of `send-rejections` as plain functions: enqueue what is due, then send it.

`as_of` re-runs a past day: "now" becomes the last second of that day's sending window (local time), but
never later than the real time, so the run enqueues and sends exactly what a run late that day would have.
Leases and timestamps still use the wall clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import make_engine, session_scope
from junkan.db.types import utcnow
from junkan.links import LinkSigner
from junkan.mail.backends import MailBackend, build_backend
from junkan.outbox.enqueue import EnqueueResult, enqueue_due_notices, plan_due_notices
from junkan.outbox.render import NoticeRenderer, planned_rows
from junkan.outbox.sender import OutboxSender, SendCounts


def as_of_now(as_of: date | None, settings: Settings, *, real_now: datetime | None = None) -> datetime | None:
    """The business "now" of a re-run of day `as_of`; None means the live clock.

    Never later than the real time: `--as-of today` must not send notices that fall due later today.
    """
    if as_of is None:
        return None
    return min(window_end(as_of, settings), real_now or utcnow())


def window_end(day: date, settings: Settings) -> datetime:
    """The last second of `day`'s sending window (local time): what a run late that day judges by.
    Uncapped, so `junkan preview` can look at a day still to come; real runs go through `as_of_now`."""
    zone = ZoneInfo(settings.notice.timezone)
    return datetime.combine(day, settings.notice.window_end, tzinfo=zone) - timedelta(seconds=1)


def enqueue_notices(settings: Settings, *, as_of: date | None = None, dry_run: bool = False,
                    engine: Engine | None = None) -> EnqueueResult:
    engine = engine or make_engine(settings.database_url)
    now = as_of_now(as_of, settings) or utcnow()
    with session_scope(engine) as session:
        result = enqueue_due_notices(session, settings, now, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return result


def send_notices(
    settings: Settings,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    engine: Engine | None = None,
    backend: MailBackend | None = None,
    **sender_kwargs: Any,
) -> SendCounts:
    """Send every due pending notice. A dry run renders and hands each mail to the backend in dry-run mode
    (SendGrid sandbox, `.eml` files under `dry-run/`, nothing for SMTP) and changes no state; it previews
    the notices an enqueue would add as well."""
    engine = engine or make_engine(settings.database_url)
    own_backend = backend is None
    backend = backend or build_backend(settings)
    now = as_of_now(as_of, settings)
    try:
        sender = OutboxSender(engine, settings, backend=backend, now=now, **sender_kwargs)
        counts = sender.run(dry_run=dry_run)
        if dry_run:
            _preview_planned(engine, settings, sender, now or sender.clock())
        return counts
    finally:
        if own_backend:
            backend.close()


def _preview_planned(engine: Engine, settings: Settings, sender: OutboxSender, now: datetime) -> None:
    renderer: NoticeRenderer = sender.renderer
    signer: LinkSigner = renderer.signer
    with Session(engine) as session:
        planned, _ = plan_due_notices(session, settings, now)
        rows = planned_rows(session, planned, now, signer, key=settings.retention.key_bytes())
    sender.preview_rows(rows)


def flow_counts(enqueued: dict[str, int], sent: dict[str, int], *, dry_run: bool) -> dict[str, int]:
    """The artifact/return counts of `send-rejections`: numbers only, no personal data."""
    return {
        "due": enqueued["due"],
        "enqueued": enqueued["enqueued"],
        "sent": sent["sent"],
        "suppressed": enqueued["suppressed"] + sent["suppressed"],
        "failed": sent["failed"],
        "unknown": sent["unknown"],
        "cancelled": enqueued["cancelled"] + sent["cancelled"],
        "retry": sent["retry"],
        "outside_window": sent["outside_window"],
        "fatal": sent["fatal"],
        "held": sent["held"],
        "template_error": sent["template_error"],
        # The send-time gate (junkan/outbox/gate.py): stopped because `all_mail` was withdrawn since
        # enqueue, and notices that went without their partner section (`partner_info` no longer current).
        "no_consent": sent["no_consent"],
        "partner_dropped": sent["partner_dropped"],
        "previewed": sent["previewed"],
        "dry_run": int(dry_run),
    }



