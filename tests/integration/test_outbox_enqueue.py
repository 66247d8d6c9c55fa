"""Enqueueing notices: due timing, idempotence, withdrawn policy, consent gating, suppression, cancels."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select, update

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message
from junkan.links import LinkSigner
from junkan.outbox.enqueue import enqueue_due_notices
from tests.integration._outbox_data import DECIDED, SEND_NOW, add_application, add_consent, jst, suppress
from tests.integration._outbox_steps import change_status, rejected_ids


def _enqueue(engine: Engine, settings: Settings, now=SEND_NOW, **kw):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return enqueue_due_notices(s, settings, now, **kw)


def _messages(engine: Engine) -> list[Message]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def test_enqueue_creates_one_pending_notice_per_decision_and_twice_is_a_no_op(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        rejected = add_application(s).id
        withdrawn = add_application(s, status="withdrawn").id
        add_application(s, status="in_process", decided_at=None)
        add_application(s, status="hired")
    first = _enqueue(engine, settings)
    assert (first.due, first.enqueued, first.suppressed) == (2, 2, 0)
    second = _enqueue(engine, settings)
    assert (second.due, second.enqueued) == (2, 0)  # both still pending and due: the backlog
    msgs = _messages(engine)
    assert sorted(m.logical_key for m in msgs) == sorted(
        [f"application:{rejected}:rejection", f"application:{withdrawn}:withdrawal"]
    )
    assert all(m.state == "pending" for m in msgs)
    assert all(m.due_at == jst(2026, 11, 18, 9, 0) for m in msgs)
    ids = [m.public_id for m in msgs]
    assert len(set(ids)) == 2 and all(len(i) >= 20 for i in ids)
    assert not any(str(rejected) == i or str(withdrawn) == i for i in ids)


def test_only_due_notices_are_enqueued_and_as_of_is_respected(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_application(s, decided_at=DECIDED)
        # Decided Friday 2026-11-20: +2 business days skips the weekend and 勤労感謝の日 (Mon 23rd).
        add_application(s, decided_at=jst(2026, 11, 20, 11, 0))
    assert _enqueue(engine, settings, now=jst(2026, 11, 18, 8, 59)).enqueued == 0
    assert _enqueue(engine, settings, now=jst(2026, 11, 18, 9, 0)).enqueued == 1
    assert _enqueue(engine, settings, now=jst(2026, 11, 24, 18, 0)).enqueued == 0
    later = _enqueue(engine, settings, now=jst(2026, 11, 25, 9, 0))
    assert later.enqueued == 1
    assert sorted(m.due_at for m in _messages(engine))[-1] == jst(2026, 11, 25, 9, 0)


def test_withdrawn_policy_none_sends_nothing_to_withdrawn(engine: Engine, settings: Settings) -> None:
    settings.notice.withdrawn = "none"
    with session_scope(engine) as s:
        add_application(s, status="withdrawn")
    assert _enqueue(engine, settings).enqueued == 0
    assert _messages(engine) == []


def test_partner_section_needs_current_partner_info_consent(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        yes = add_application(s, partner_consent=True).id
        no = add_application(s, partner_consent=False).id
        never = add_application(s).id
        revoked = add_application(s, partner_consent=True)
        add_consent(s, revoked.candidate_id, False, jst(2026, 11, 17, 12, 0))
        # Granted only after the (as_of) moment of the run: not yet valid for this run.
        future = add_application(s, partner_consent=False)
        add_consent(s, future.candidate_id, True, SEND_NOW + timedelta(days=3))
        revoked_id, future_id = revoked.id, future.id
    _enqueue(engine, settings)
    by_app = {m.application_id: m for m in _messages(engine)}
    assert by_app[yes].advertising and by_app[yes].ref_code and by_app[yes].partner_name == "careerrelay"
    signer = LinkSigner.from_settings(settings.links)
    assert signer.verify_referral_code(by_app[yes].ref_code or "")
    for app_id in (no, never, revoked_id, future_id):
        assert not by_app[app_id].advertising
        assert by_app[app_id].ref_code is None and by_app[app_id].partner_name is None


def test_partner_section_off_by_policy(engine: Engine, settings: Settings) -> None:
    settings.notice.partner_section = "off"
    with session_scope(engine) as s:
        add_application(s, partner_consent=True)
    _enqueue(engine, settings)
    (msg,) = _messages(engine)
    assert not msg.advertising and msg.ref_code is None


def test_suppressed_address_is_recorded_as_suppressed_matching_the_normalised_key(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_application(s, email="taro@example.com", partner_consent=True)
        add_application(s, email="hanako@example.com")
        suppress(s, "taro@example.com", reason="bounce")
    result = _enqueue(engine, settings)
    assert (result.enqueued, result.suppressed) == (1, 1)
    states = sorted(m.state for m in _messages(engine))
    assert states == ["pending", "suppressed"]
    suppressed = next(m for m in _messages(engine) if m.state == "suppressed")
    assert suppressed.ref_code is None and not suppressed.advertising
    assert _enqueue(engine, settings).suppressed == 0  # recorded once, not re-evaluated every run


def test_unreject_or_hire_cancels_the_pending_notice_and_a_re_rejection_revives_it(
    engine: Engine, settings: Settings
) -> None:
    unrejected, hired, kept = rejected_ids(engine, 3)
    _enqueue(engine, settings)
    change_status(engine, {unrejected: "in_process", hired: "hired"})
    result = _enqueue(engine, settings)
    assert result.cancelled == 2
    by_app = {m.application_id: m for m in _messages(engine)}
    assert by_app[unrejected].state == by_app[hired].state == "cancelled"
    assert by_app[unrejected].cancelled_reason == "application_status_changed"
    assert by_app[kept].state == "pending"

    with session_scope(engine) as s:
        app = s.get(Application, unrejected)
        app.status = "rejected"  # type: ignore[union-attr]
        app.decided_at = jst(2026, 11, 17, 10, 0)  # type: ignore[union-attr]
    revived = _enqueue(engine, settings, now=jst(2026, 11, 19, 9, 30))
    assert revived.revived == 1 and revived.enqueued == 1
    again = {m.application_id: m for m in _messages(engine)}[unrejected]
    assert again.state == "pending" and again.due_at == jst(2026, 11, 19, 9, 0)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 3


def test_dry_run_plans_without_writing(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_application(s)
        add_application(s, email="x@example.com")
        suppress(s, "x@example.com")
    result = _enqueue(engine, settings, dry_run=True)
    assert (result.due, result.enqueued, result.suppressed) == (2, 1, 1)
    assert len(result.planned) == 2
    assert _messages(engine) == []


def test_a_notice_without_address_is_recorded_as_no_address_and_revived_once_there_is_one(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        app = add_application(s, email="")
        app_id, candidate_id = app.id, app.candidate_id
    result = _enqueue(engine, settings)
    assert (result.due, result.enqueued, result.cancelled, result.no_address) == (0, 0, 0, 1)
    (msg,) = _messages(engine)
    assert (msg.application_id, msg.state, msg.cancelled_reason, msg.advertising) == (
        app_id, "cancelled", "no_address", False)

    again = _enqueue(engine, settings)  # still no address: recorded once, nothing new
    assert (again.enqueued, again.no_address, again.revived) == (0, 0, 0)
    assert [(m.state, m.updated_at) for m in _messages(engine)] == [(msg.state, msg.updated_at)]

    with session_scope(engine) as s:
        s.execute(update(Candidate).where(Candidate.id == candidate_id).values(email_key="found@example.com"))
    revived = _enqueue(engine, settings)
    assert (revived.enqueued, revived.revived, revived.no_address) == (1, 1, 0)
    (msg,) = _messages(engine)
    assert (msg.state, msg.cancelled_reason) == ("pending", None)


def test_decisions_older_than_max_age_get_no_notice(engine: Engine, settings: Settings) -> None:
    # History imported on the first run: a notice eleven months late would be rude, not courteous.
    with session_scope(engine) as s:
        add_application(s, decided_at=SEND_NOW - timedelta(days=330))
        recent = add_application(s, decided_at=DECIDED).id
    result = _enqueue(engine, settings)
    assert result.enqueued == 1
    assert [m.application_id for m in _messages(engine)] == [recent]
    assert _enqueue(engine, settings.model_copy(update={"notice": settings.notice.model_copy(
        update={"max_age_days": 400})})).enqueued == 1


def test_a_sent_notice_settles_the_application_when_it_flips_between_rejected_and_withdrawn(
    engine: Engine, settings: Settings
) -> None:
    (app_id,) = rejected_ids(engine, 1)
    assert _enqueue(engine, settings).enqueued == 1
    with session_scope(engine) as s:
        s.execute(update(Message).values(state="accepted"))
    for status in ("withdrawn", "rejected", "withdrawn"):
        with session_scope(engine) as s:
            s.execute(update(Application).where(Application.id == app_id)
                      .values(status=status, decided_at=jst(2026, 11, 17, 10, 0)))
        again = _enqueue(engine, settings, now=jst(2026, 11, 20, 10, 0))
        assert (again.enqueued, again.due, again.revived) == (0, 0, 0), status
    assert [(m.kind, m.state) for m in _messages(engine)] == [("rejection", "accepted")]


def test_a_pending_notice_of_the_other_kind_gives_way_in_the_same_run(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        app_id = add_application(s, status="withdrawn").id
    _enqueue(engine, settings)
    change_status(engine, {app_id: "rejected"})
    flipped = _enqueue(engine, settings, now=jst(2026, 11, 18, 11, 0))
    assert (flipped.enqueued, flipped.cancelled) == (1, 1)
    assert sorted((m.kind, m.state) for m in _messages(engine)) == [
        ("rejection", "pending"), ("withdrawal", "cancelled")]
    # And back again: the withdrawal that was never sent is revived; the rejection gives way.
    change_status(engine, {app_id: "withdrawn"})
    back = _enqueue(engine, settings, now=jst(2026, 11, 18, 12, 0))
    assert (back.revived, back.cancelled) == (1, 1)
    assert sorted((m.kind, m.state) for m in _messages(engine)) == [
        ("rejection", "cancelled"), ("withdrawal", "pending")]
