"""The send gate (junkan/outbox/gate.py): a condition that changes between enqueue and send stops the mail.

Each case queues a mail the ordinary way, then changes one condition at the last possible moment: in the
sender's `claimed` hook, after the chunk is claimed and just before the gate looks at it. The mail must
not go out; it is cancelled (or suppressed) with the reason stored on the message, and the reason is in
the run's counts. The partner section is the exception: the notice still goes, without it.
"""

from __future__ import annotations

import email
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import ConsentSettings, LinkSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Consent, Job, Message
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.recontact import RecontactRenderer
from junkan.outbox.render import NoticeRenderer
from junkan.outbox.renewal_mail import RenewalRenderer, enqueue_renewals
from junkan.outbox.sender import OutboxSender, SendCounts
from junkan.pool.recontact import match_and_store, send
from tests.integration import _outbox_data as notices
from tests.integration import _pool_data as pool
from tests.integration.test_consent_renewal import NOW as RENEWAL_NOW
from tests.integration.test_consent_renewal import person as renewal_person

Change = Callable[[Session, int], None]


# -- the changes, each applied to one candidate ------------------------------------------------------------

def _consent(purpose: str, granted: bool) -> Change:
    def change(s: Session, cid: int) -> None:
        s.add(Consent(candidate_id=cid, purpose=purpose, granted=granted, source="operator",
                      recorded_at=s.info["at"], expires_at=None))
    return change


def _lapse(purpose: str) -> Change:
    """The current grant's expiry falls between enqueue and send (as a grant recorded with that expiry)."""
    def change(s: Session, cid: int) -> None:
        s.execute(update(Consent).where(Consent.candidate_id == cid, Consent.purpose == purpose,
                                        Consent.granted.is_(True)).values(expires_at=s.info["at"]))
    return change


def _suppressed(s: Session, cid: int) -> None:
    key = s.scalar(select(Candidate.email_key).where(Candidate.id == cid))
    assert key is not None
    pool.suppress(s, key)


def _anonymised(s: Session, cid: int) -> None:
    # What junkan.privacy.anonymise leaves on the candidate (its own cancel is bypassed: the row is leased
    # by the sender at this moment, which is exactly the race the gate closes).
    s.execute(update(Candidate).where(Candidate.id == cid).values(
        email_key=None, display_name=None, anonymized_at=s.info["at"]))


def _hired_in_the_same_application(s: Session, cid: int) -> None:
    s.execute(update(Application).where(Application.candidate_id == cid).values(status="hired"))


def _new_application(status: str) -> Change:
    def change(s: Session, cid: int) -> None:
        job = Job(source="csv", external_id=f"J-new-{cid}-{status}", title="新しい求人")
        s.add(job)
        s.flush()
        at = s.info["at"]
        s.add(Application(source="csv", external_id=f"A-new-{cid}-{status}", candidate_id=cid, job_id=job.id,
                          status=status, applied_at=at, decided_at=at if status != "in_process" else None,
                          content_hash="x"))
    return change


def _sender(engine: Engine, cfg: Settings, kind: str, now: datetime, change: Change | None,
            cid: int, at: datetime) -> SendCounts:
    """One send run of `kind` at `now`; `change` is applied (as of `at`) the moment the chunk is claimed."""
    renderers = {"rejection": NoticeRenderer(cfg), "recontact": RecontactRenderer(cfg, engine),
                 "consent_renewal": RenewalRenderer(cfg)}

    def hook(step: str, ids: Sequence[str]) -> None:
        if step == "claimed" and change is not None:
            with session_scope(engine) as s:
                s.info["at"] = at
                change(s, cid)

    return OutboxSender(engine, cfg, renderer=renderers[kind], now=now, kinds=(kind,), hook=hook).run()


def _message(engine: Engine, kind: str) -> Message:
    with Session(engine) as s:
        return s.scalars(select(Message).where(Message.kind == kind)).one()


def _assert_ended(engine: Engine, kind: str, state: str, reason: str | None, counts: SendCounts,
                  outbox_dir: Path) -> None:
    """The one message of `kind` ended `state` for `reason`; the run counted it sent only if it was, and
    the outbox holds exactly the mails it sent."""
    msg = _message(engine, kind)
    assert (msg.state, msg.cancelled_reason) == (state, reason)
    assert counts.sent == (1 if state == "accepted" else 0)
    assert len(_mails(outbox_dir)) == counts.sent


def _mails(directory: Path) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(directory.glob("*.eml"))]


# -- notices and their partner section --------------------------------------------------------------------

NOTICE_CASES: dict[str, tuple[Change | None, str, str | None]] = {
    "nothing changes": (None, "accepted", None),
    "address suppressed": (_suppressed, "suppressed", "suppression list"),
    "candidate anonymised": (_anonymised, "cancelled", "candidate_anonymised"),
    "hired (un-rejected)": (_hired_in_the_same_application, "cancelled", "application_status_changed"),
    "all mail stopped": (_consent("all_mail", False), "cancelled", "all_mail_withdrawn"),
}


@pytest.mark.parametrize("case", list(NOTICE_CASES))
def test_a_notice_is_stopped_by_what_changed_since_it_was_queued(engine: Engine, settings: Settings,
                                                                 case: str) -> None:
    change, state, reason = NOTICE_CASES[case]
    with session_scope(engine) as s:
        cid = notices.add_application(s, partner_consent=True).candidate_id
        enqueue_due_notices(s, settings, notices.SEND_NOW)
    assert _message(engine, "rejection").state == "pending"
    counts = _sender(engine, settings, "rejection", notices.SEND_NOW, change, cid, notices.SEND_NOW)
    _assert_ended(engine, "rejection", state, reason, counts, settings.mail.outbox_dir)
    if reason is not None and state == "cancelled":
        assert counts.stopped == {reason: 1} and counts.cancelled == 1
    assert counts.no_consent == (1 if reason == "all_mail_withdrawn" else 0)


@pytest.mark.parametrize("change", [_lapse("partner_info"), _consent("partner_info", False)],
                         ids=["partner_info lapsed", "partner_info withdrawn"])
def test_a_notice_goes_without_its_partner_section_once_partner_info_is_not_current(
    engine: Engine, settings: Settings, change: Change
) -> None:
    with session_scope(engine) as s:
        cid = notices.add_application(s, partner_consent=True).candidate_id
        enqueue_due_notices(s, settings, notices.SEND_NOW)
    queued = _message(engine, "rejection")
    assert queued.advertising and queued.ref_code and queued.partner_name  # planned with the section
    counts = _sender(engine, settings, "rejection", notices.SEND_NOW, change, cid,
                     notices.SEND_NOW - timedelta(minutes=1))
    msg = _message(engine, "rejection")
    assert msg.state == "accepted"
    assert (msg.advertising, msg.ref_code, msg.partner_name) == (False, None, None)
    assert "無料キャリア相談のご案内" not in (msg.body_text or "")
    assert (counts.sent, counts.partner_dropped, counts.cancelled) == (1, 1, 0)


# -- re-contact -------------------------------------------------------------------------------------------

CONSENT_LOST = {"talent_pool_consent_missing", "recontact_consent_missing", "all_mail_withdrawn"}
#: The match run is a day before the send, so that "since it was queued" has room.
MATCH_DAY = date(2026, 11, 19)
#: The match run at 10:00 that day.
MATCH_CLOCK = RunClock.fixed(pool.NOW - timedelta(days=1), as_of=MATCH_DAY)

RECONTACT_CASES: dict[str, tuple[Change | None, str, str | None]] = {
    "nothing changes": (None, "accepted", None),
    "talent_pool lapsed": (_lapse("talent_pool"), "cancelled", "talent_pool_consent_missing"),
    "talent_pool withdrawn": (_consent("talent_pool", False), "cancelled", "talent_pool_consent_missing"),
    "recontact lapsed": (_lapse("recontact"), "cancelled", "recontact_consent_missing"),
    "recontact withdrawn": (_consent("recontact", False), "cancelled", "recontact_consent_missing"),
    "all mail stopped": (_consent("all_mail", False), "cancelled", "all_mail_withdrawn"),
    "address suppressed": (_suppressed, "suppressed", "suppression list"),
    "candidate anonymised": (_anonymised, "cancelled", "candidate_anonymised"),
    "hired since": (_new_application("hired"), "cancelled", "hired_since"),
    "back in a selection": (_new_application("in_process"), "cancelled", "applied_since"),
    "applied (and rejected) since": (_new_application("rejected"), "cancelled", "applied_since"),
}


def _queue_recontact(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Settings, int, datetime]:
    cfg = pool.pool_settings(settings, mode="auto", holdout_share=0.0, shortlist_dir=tmp_path / "sl")
    with session_scope(engine) as s:
        pool.add_job(s, "バックエンドエンジニア", required=["Go", "SQL"],
                     opened_at=pool.NOW - timedelta(days=1))
        cid = pool.add_member(s, skills=["Go", "SQL"]).id
    assert match_and_store(engine, cfg, MATCH_CLOCK).counts["mails_enqueued"] == 1
    return cfg, cid, _message(engine, "recontact").created_at


@pytest.mark.parametrize("case", list(RECONTACT_CASES))
def test_a_recontact_mail_is_stopped_by_what_changed_since_it_was_queued(
    engine: Engine, settings: Settings, tmp_path: Path, case: str
) -> None:
    change, state, reason = RECONTACT_CASES[case]
    cfg, cid, queued = _queue_recontact(engine, settings, tmp_path)
    counts = _sender(engine, cfg, "recontact", pool.NOW, change, cid, queued + timedelta(hours=1))
    _assert_ended(engine, "recontact", state, reason, counts, settings.mail.outbox_dir)
    if reason is not None:
        assert counts.stopped == {reason: 1}
    assert counts.no_consent == (1 if reason in CONSENT_LOST else 0)
    assert counts.hired_since == (1 if reason == "hired_since" else 0)
    assert counts.applied_since == (1 if reason == "applied_since" else 0)


def test_audit_a_recontact_mail_queued_in_auto_mode_is_not_sent_once_talent_pool_lapsed(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The audit's case, through the ordinary send step: queued in `mode=auto`, then the person's
    `talent_pool` grant expires before the send; their `recontact` grant is still current."""
    cfg, cid, queued = _queue_recontact(engine, settings, tmp_path)
    with session_scope(engine) as s:
        s.info["at"] = queued + timedelta(hours=1)
        _lapse("talent_pool")(s, cid)
    sent = send(engine, cfg, pool.CLOCK)
    assert (sent["mails_sent"], sent["mails_cancelled"], sent["mails_no_consent"]) == (0, 1, 1)
    msg = _message(engine, "recontact")
    assert (msg.state, msg.cancelled_reason) == ("cancelled", "talent_pool_consent_missing")
    assert _mails(settings.mail.outbox_dir) == []


# -- consent renewals -------------------------------------------------------------------------------------

RENEWAL_CASES: dict[str, tuple[Change | None, str, str | None]] = {
    "nothing changes": (None, "accepted", None),
    "renewed meanwhile": (lambda s, cid: s.add(Consent(
        candidate_id=cid, purpose="talent_pool", granted=True, source="link", recorded_at=s.info["at"],
        expires_at=s.info["at"] + timedelta(days=365))), "cancelled", "renewal_not_needed"),
    "talent_pool lapsed": (_lapse("talent_pool"), "cancelled", "renewal_not_needed"),
    "talent_pool withdrawn": (_consent("talent_pool", False), "cancelled", "renewal_not_needed"),
    "recontact withdrawn": (_consent("recontact", False), "cancelled", "recontact_withdrawn"),
    "all mail stopped": (_consent("all_mail", False), "cancelled", "all_mail_withdrawn"),
    "address suppressed": (_suppressed, "suppressed", "suppression list"),
    "candidate anonymised": (_anonymised, "cancelled", "candidate_anonymised"),
}


@pytest.mark.parametrize("case", list(RENEWAL_CASES))
def test_a_renewal_mail_is_stopped_by_what_changed_since_it_was_queued(
    engine: Engine, settings: Settings, case: str
) -> None:
    change, state, reason = RENEWAL_CASES[case]
    cfg = settings.model_copy(update={
        "consent": ConsentSettings(renewal_enabled=True),
        "links": LinkSettings(secret="gate-test-secret", public_base_url="https://jobs.example.co.jp"),
    })
    with session_scope(engine) as s:
        cid = renewal_person(s, granted_days_ago=360)
        assert enqueue_renewals(s, cfg, RENEWAL_NOW).enqueued == 1
    send_at = RENEWAL_NOW + timedelta(hours=2)
    counts = _sender(engine, cfg, "consent_renewal", send_at, change, cid, send_at - timedelta(hours=1))
    _assert_ended(engine, "consent_renewal", state, reason, counts, cfg.mail.outbox_dir)
    if reason is not None:
        assert counts.stopped == {reason: 1}
