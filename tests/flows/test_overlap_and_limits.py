"""Overlap protection and provider limits against the real Prefect API of the test harness.

A manual `send-rejections` started while the scheduled `daily` holds the `junkan-send` slot waits for it
(or is refused once JUNKAN_LIMITS__SEND_WAIT_S runs out) and sends nothing meanwhile; every SendGrid request
of a run takes one slot of the strict `junkan-sendgrid` rate limit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from sqlalchemy import Engine, func, select

from flows.overlap import SendingBusy, sending_slot
from flows.send_rejections import send_rejections
from junkan.config import Settings, get_settings
from junkan.db import session_scope
from junkan.db.models import Message
from tasks.limits import (
    ATS_LIMIT,
    SEND_LIMIT,
    SENDGRID_LIMIT,
    LimitMissing,
    ensure_limits,
    provider_throttle,
)
from tests.fakes.sendgrid import SendGridFake
from tests.integration._outbox_data import add_application

#: Wednesday: notices decided on Monday 2026-11-16 became due at 09:00.
AS_OF = date(2026, 11, 18)
pytestmark = pytest.mark.usefixtures("real_clock_in_the_window")


@pytest.fixture
def default_limits() -> Iterator[None]:
    """Tests that change a limit put the defaults back, for the flow tests that follow."""
    yield
    ensure_limits(Settings())


def _seed(engine: Engine, n: int = 3) -> None:
    with session_scope(engine) as s:
        for i in range(n):
            add_application(s, email=f"candidate{i}@example.com")


def _limit(name: str) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def _running_send_rejections() -> int:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["send-rejections"])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.RUNNING]))),
        )
    return len(runs)


def _sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Message)
                                .where(Message.state == "sent")).scalar_one())


def test_setup_creates_the_limits_from_the_settings_and_a_missing_one_names_junkan_setup(
    monkeypatch: pytest.MonkeyPatch, default_limits: None
) -> None:
    monkeypatch.setenv("JUNKAN_LIMITS__SENDGRID_PER_SECOND", "2.5")
    monkeypatch.setenv("JUNKAN_LIMITS__ATS_PER_SECOND", "4")

    assert ensure_limits(get_settings()) == [SEND_LIMIT, SENDGRID_LIMIT, ATS_LIMIT]
    assert ensure_limits(get_settings()) == [SEND_LIMIT, SENDGRID_LIMIT, ATS_LIMIT]  # idempotent

    send, sendgrid, ats = (_limit(n) for n in (SEND_LIMIT, SENDGRID_LIMIT, ATS_LIMIT))
    assert (send.limit, send.slot_decay_per_second, send.active) == (1, 0.0, True)
    assert (sendgrid.limit, sendgrid.slot_decay_per_second) == (3, 2.5)
    assert (ats.limit, ats.slot_decay_per_second) == (4, 4.0)
    with pytest.raises(LimitMissing, match=r"'junkan-nowhere'.*run `junkan setup`"):
        provider_throttle("junkan-nowhere")()


def test_every_sendgrid_request_of_a_run_takes_a_slot_of_the_rate_limit(
    engine: Engine, sendgrid_fake: SendGridFake, default_limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine, 4)
    monkeypatch.setenv("JUNKAN_MAIL__MAX_RETRIES", "1")
    monkeypatch.setenv("JUNKAN_MAIL__BACKOFF_BASE_S", "0.01")
    # Slots that barely decay, so the run's count is still there to read afterwards; made afresh, so the
    # slots an earlier test of the session took (the harness keeps one server) are not counted.
    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectNotFound):
            client.delete_global_concurrency_limit_by_name(SENDGRID_LIMIT)
        client.upsert_global_concurrency_limit_by_name(SENDGRID_LIMIT, 1000, slot_decay_per_second=0.0001)
    sendgrid_fake.fail_next(503, times=1)  # one request more than mails: retries are throttled too

    counts = send_rejections(as_of=AS_OF)

    assert counts["sent"] == 4 and len(sendgrid_fake.received) == 5
    assert _limit(SENDGRID_LIMIT).active_slots == len(sendgrid_fake.received)


def test_a_manual_send_during_the_scheduled_run_waits_its_turn_and_never_sends_alongside(
    engine: Engine, sendgrid_fake: SendGridFake
) -> None:
    _seed(engine)
    outcome: dict[str, Any] = {}
    manual = threading.Thread(
        target=lambda: outcome.update(state=send_rejections(as_of=AS_OF, return_state=True)))

    said: list[str] = []
    listener = logging.Handler()
    listener.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    prefect_logger = logging.getLogger("prefect")  # Prefect's loggers do not propagate to the root
    prefect_logger.addHandler(listener)
    try:
        with sending_slot("daily"):  # what the scheduled daily holds for its whole run
            manual.start()
            deadline = time.monotonic() + 90
            while not _running_send_rejections() and time.monotonic() < deadline:
                manual.join(0.2)
            assert _running_send_rejections() == 1, "the manual run never started"
            # Given two seconds, a run that ignored the slot would have sent its three mails by now.
            manual.join(2)
            assert manual.is_alive()
            assert sendgrid_fake.received == [] and _sent(engine) == 0
        manual.join(120)
    finally:
        prefect_logger.removeHandler(listener)

    assert outcome["state"].is_completed()
    assert outcome["state"].result()["sent"] == 3 and len(sendgrid_fake.accepted) == 3
    # The waiting run says that the holder may have died, and until when its lease can hold the slot.
    waiting = [m for m in said if "held by another run that sends or by one that may have died" in m]
    assert waiting and "at the latest" in waiting[0], said


def test_a_manual_send_is_refused_with_a_clear_message_when_the_wait_runs_out(
    engine: Engine, sendgrid_fake: SendGridFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine)
    monkeypatch.setenv("JUNKAN_LIMITS__SEND_WAIT_S", "1")

    outcome: dict[str, Any] = {}
    # Another thread, as another worker would be: in the holder's own context it would count as its sub-flow.
    manual = threading.Thread(
        target=lambda: outcome.update(state=send_rejections(as_of=AS_OF, return_state=True)))
    with sending_slot("daily"):
        manual.start()
        manual.join(120)

    state = outcome["state"]
    assert state.is_failed()
    with pytest.raises(SendingBusy, match=r"send-rejections refused: another run that sends .* junkan-send"):
        state.result()
    assert sendgrid_fake.received == [] and _sent(engine) == 0
    with engine.connect() as conn:  # refused before anything was even enqueued
        assert conn.execute(select(func.count()).select_from(Message)).scalar_one() == 0


def test_a_finished_run_releases_the_slot_so_the_next_one_takes_it_without_waiting(
    engine: Engine, sendgrid_fake: SendGridFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine)
    # A slot left held would stay so for its 300 s lease: ten seconds are for the API's answer alone (on a
    # loaded machine, with the suite's other worker busy, one second was not always enough for it).
    monkeypatch.setenv("JUNKAN_LIMITS__SEND_WAIT_S", "10")

    assert send_rejections(as_of=AS_OF)["sent"] == 3
    assert send_rejections(as_of=AS_OF)["sent"] == 0  # a short wait is enough: the slot is free
    assert _limit(SEND_LIMIT).active_slots == 0
