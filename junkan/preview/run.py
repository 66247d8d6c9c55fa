"""Running a preview: the sections in order, in one read-only session that is rolled back at the end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.mail.identity_guard import LIVE_BACKENDS, sample_identity_values
from junkan.mail.timing import add_business_days, is_business_day
from junkan.outbox.notices import window_end
from junkan.preview.model import Preview, PreviewDay, SectionPreview
from junkan.preview.notices import notices_section
from junkan.preview.recontact import recontact_section
from junkan.preview.renewals import renewals_section

PreviewStep = Callable[[PreviewDay], SectionPreview]
#: The sending flows, in the order `daily` runs them. A new mail flow adds its one function here.
SECTIONS: tuple[PreviewStep, ...] = (notices_section, recontact_section, renewals_section)


def default_preview_date(settings: Settings, clock: RunClock) -> date:
    """The day of the next sending window that has not closed yet: today until its window closes (the
    mails still to go out today), else the next business day."""
    notice = settings.notice
    local = clock.local(clock.now())
    if is_business_day(local.date(), extra_closed_days=notice.extra_closed_days) \
            and local.time() < notice.window_end:
        return local.date()
    return add_business_days(local.date(), 1, extra_closed_days=notice.extra_closed_days)


def preview_day(engine: Engine, settings: Settings, day: date,
                sections: tuple[PreviewStep, ...] = SECTIONS) -> Preview:
    """What the sending flows would do on `day` (any day, past or future). Changes nothing."""
    open_day = is_business_day(day, extra_closed_days=settings.notice.extra_closed_days)
    with Session(engine) as session:
        try:
            ctx = PreviewDay(session=session, settings=settings, day=day, now=window_end(day, settings),
                             business_day=open_day)
            refused = (sample_identity_values(settings) if settings.mail.backend in LIVE_BACKENDS else [])
            return Preview(day=day, business_day=open_day, sections=[step(ctx) for step in sections],
                           refused=refused)
        finally:
            session.rollback()
