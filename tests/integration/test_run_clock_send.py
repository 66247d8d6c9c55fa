"""`--as-of` chooses the work, never the moment of sending (issue 19 §4).

A backfill of yesterday run at 06:37 JST used to send notices and renewals dated 06:37, outside the
09:00–18:00 window: the window was judged by the as_of day. Now the real clock alone decides whether a
mail may leave, and dates it.
"""

from __future__ import annotations

import email
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import ConsentSettings, LinkSettings, Settings
from junkan.consent.renewal import RENEWAL_KIND
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.outbox.notices import enqueue_notices, send_notices
from junkan.outbox.renewal_mail import run_renewals
from tests.integration import _outbox_data as notices
from tests.integration.test_consent_renewal import person

JST = notices.JST
#: Wednesday: notices decided on Monday 2026-11-16 fell due at 09:00.
YESTERDAY = date(2026, 11, 18)
#: The next morning, before the window opens.
EARLY = datetime(2026, 11, 19, 6, 37, tzinfo=JST)
OPENING = datetime(2026, 11, 19, 9, 0, tzinfo=JST)


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "consent": ConsentSettings(renewal_enabled=True),
        "links": LinkSettings(secret="run-clock-test-secret", public_base_url="https://jobs.example.co.jp"),
    })


def _seed(engine: Engine) -> None:
    with session_scope(engine) as s:
        notices.add_application(s, email="ichiro@example.com")
        notices.add_application(s, status="withdrawn", email="jiro@example.com")
        # A talent_pool grant lapsing within the renewal notice period of the as_of day.
        person(s, granted_days_ago=362)


def _states(engine: Engine) -> dict[str, list[str]]:
    with Session(engine) as s:
        rows = s.execute(select(Message.kind, Message.state).order_by(Message.kind)).all()
    found: dict[str, list[str]] = {}
    for kind, state in rows:
        found.setdefault(kind, []).append(state)
    return found


def _dates(outbox: Path) -> list[str]:
    return sorted(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Date"]  # type: ignore[misc]
                  for p in outbox.glob("*.eml"))


def _backfill(engine: Engine, cfg: Settings, clock: RunClock) -> tuple[int, int, bool, bool]:
    enqueue_notices(engine, cfg, clock)
    sent = send_notices(engine, cfg, clock)
    renewals = run_renewals(engine, cfg, clock)
    assert renewals.sent is not None
    return sent.sent, renewals.sent.sent, sent.outside_window, renewals.sent.outside_window


def test_a_backfill_before_the_window_holds_every_mail_until_it_opens(engine: Engine, cfg: Settings) -> None:
    _seed(engine)
    early = RunClock.fixed(EARLY, as_of=YESTERDAY)
    assert _backfill(engine, cfg, early) == (0, 0, True, True)
    # The work of the day was chosen: the notices and the renewal wait in the outbox.
    assert _states(engine) == {RENEWAL_KIND: ["pending"], "rejection": ["pending"], "withdrawal": ["pending"]}
    assert _dates(cfg.mail.outbox_dir) == []

    # The same backfill at the window's opening sends them, dated when they really left.
    assert _backfill(engine, cfg, RunClock.fixed(OPENING, as_of=YESTERDAY)) == (2, 1, False, False)
    assert _states(engine) == {RENEWAL_KIND: ["accepted"], "rejection": ["accepted"],
                               "withdrawal": ["accepted"]}
    assert _dates(cfg.mail.outbox_dir) == ["Thu, 19 Nov 2026 09:00:00 +0900"] * 3


def test_a_backfill_on_a_closed_day_sends_nothing_even_for_a_business_day(
    engine: Engine, cfg: Settings
) -> None:
    _seed(engine)
    # Saturday 2026-11-21 at noon: inside 09:00-18:00, but not a business day of the real clock.
    saturday = RunClock.fixed(datetime(2026, 11, 21, 12, 0, tzinfo=JST), as_of=YESTERDAY)
    assert _backfill(engine, cfg, saturday) == (0, 0, True, True)
    assert _dates(cfg.mail.outbox_dir) == []


def test_as_of_still_chooses_the_work_of_its_day(engine: Engine, cfg: Settings) -> None:
    _seed(engine)
    # The day before the notices fell due: nothing of theirs is chosen, whatever the real clock says.
    before = RunClock.fixed(OPENING + timedelta(hours=1), as_of=YESTERDAY - timedelta(days=1))
    enqueue_notices(engine, cfg, before)
    assert send_notices(engine, cfg, before).sent == 0
    assert "rejection" not in _states(engine)
