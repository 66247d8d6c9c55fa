"""A small hiring month (October 2026, Asia/Tokyo) whose every KPI is worked out by hand in the tests.

Times are written in JST; the October period is [2026-10-01 00:00 JST, 2026-11-01 00:00 JST).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Job, Message
from junkan.db.models_engagement import Click, EmailEvent
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral

JST = timezone(timedelta(hours=9))
_ids = itertools.count(1)


def jst(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


def _app(s, cand: Candidate, job: Job | None, status: str, applied: datetime, decided: datetime | None,
         **kw) -> Application:  # type: ignore[no-untyped-def]
    a = Application(source="csv", external_id=f"A{next(_ids)}", candidate_id=cand.id,
                    job_id=job.id if job else None, status=status, applied_at=applied, decided_at=decided,
                    content_hash="x", **kw)
    s.add(a)
    s.flush()
    return a


def _msg(s, app: Application, state: str, *, accepted: datetime | None = None, reason: str | None = None,
         partner: str | None = None) -> Message:  # type: ignore[no-untyped-def]
    n = next(_ids)
    m = Message(public_id=f"p{n}", logical_key=f"application:{app.id}:rejection", kind="rejection",
                candidate_id=app.candidate_id, application_id=app.id, state=state,
                due_at=app.decided_at, accepted_at=accepted, sending_at=accepted, cancelled_reason=reason,
                template_name="rejection", template_version="v1", partner_name=partner,
                ref_code=f"R{n}" if partner else None)
    s.add(m)
    s.flush()
    return m


def load_october(engine: Engine) -> None:
    with session_scope(engine) as s:
        sales = Job(source="csv", external_id="J1", title="営業", department="営業部")
        dev = Job(source="csv", external_id="J2", title="エンジニア", department="開発部")
        s.add_all([sales, dev])
        c = [Candidate(email_key=f"c{i}@example.com") for i in range(9)]
        c[4].email_key = None  # c4 has no address
        s.add_all(c)
        s.flush()
        # Rejected before October: c1 (August) and c7 (Sep 30 23:59 JST, one minute before the period).
        _app(s, c[1], dev, "rejected", jst(2026, 8, 1), jst(2026, 8, 20))
        _app(s, c[7], sales, "rejected", jst(2026, 7, 1), jst(2026, 9, 30, 23, 59))
        # a1: applied at midnight JST, the first instant of October; rejected Mon Oct 5. SLA: 5 business
        # days, Oct 12 is a holiday (スポーツの日) → the 5th is Tue Oct 13; accepted 23:59 that day.
        a1 = _app(s, c[1], sales, "rejected", jst(2026, 10, 1, 0, 0), jst(2026, 10, 5, 10))
        # a2: applied one minute before October; its notice accepted one minute after the SLA.
        a2 = _app(s, c[2], sales, "rejected", jst(2026, 9, 30, 23, 59), jst(2026, 10, 5, 11))
        a3 = _app(s, c[3], dev, "rejected", jst(2026, 10, 2), jst(2026, 10, 6))
        a4 = _app(s, c[4], dev, "rejected", jst(2026, 10, 3), jst(2026, 10, 7))
        _app(s, c[5], dev, "hired", jst(2026, 10, 3), jst(2026, 10, 20))
        _app(s, c[6], sales, "withdrawn", jst(2026, 10, 4), jst(2026, 10, 10))
        # c1 again: a second application in the period, a re-application after the August rejection.
        _app(s, c[1], dev, "in_process", jst(2026, 10, 15), None, is_reapplication=True)
        # Decided at the first instant of November: not an October rejection (but an October application).
        _app(s, c[2], dev, "rejected", jst(2026, 10, 20), jst(2026, 11, 1, 0, 0))
        # The last minute of October.
        _app(s, c[3], sales, "in_process", jst(2026, 10, 31, 23, 59), None)
        # Rejected Oct 8, first ingested today (far past notice.max_age_days): no notice by policy.
        _app(s, c[8], sales, "rejected", jst(2026, 9, 1), jst(2026, 10, 8))
        # Rejected Oct 9, ingested the same day, never sent: a miss.
        _app(s, c[0], sales, "rejected", jst(2026, 9, 1), jst(2026, 10, 9),
             created_at=jst(2026, 10, 9, 13))

        m1 = _msg(s, a1, "delivered", accepted=jst(2026, 10, 13, 23, 59), partner="careerrelay")
        m2 = _msg(s, a2, "bounced", accepted=jst(2026, 10, 14, 0, 1), partner="careerrelay")
        _msg(s, a3, "suppressed")
        _msg(s, a4, "cancelled", reason="no_address")

        for n, (m, event) in enumerate([(m1, "delivered"), (m1, "open"), (m2, "bounce")]):
            s.add(EmailEvent(sg_event_id=f"e{n}", dedup_key=f"d{n}", message_id=m.id, event=event,
                             occurred_at=m.accepted_at, payload={}))
        s.add_all([
            Click(message_id=m1.id, link="partner", clicked_at=jst(2026, 10, 15)),
            Click(message_id=m1.id, link="partner", clicked_at=jst(2026, 10, 16)),
            Click(message_id=m2.id, link="unsubscribe", clicked_at=jst(2026, 10, 16)),
        ])
        s.add_all([
            PartnerReferral(partner="careerrelay", ref_code=m1.ref_code, status="registered",
                            occurred_at=jst(2026, 10, 20), message_id=m1.id, candidate_id=m1.candidate_id,
                            reported_via="csv"),
            PartnerReferral(partner="careerrelay", ref_code=m2.ref_code, status="registered",
                            occurred_at=jst(2026, 10, 21), message_id=m2.id, candidate_id=m2.candidate_id,
                            reported_via="csv", suspicious=True, suspicious_reason="test"),
        ])
        old = PartnerLedgerEntry(partner="careerrelay", kind="earned", credits=1, value_yen=300_000,
                                 credit_no=1,
                                 reason="t", effective_at=jst(2026, 9, 30), idempotency_key="earned:1")
        new = PartnerLedgerEntry(partner="careerrelay", kind="earned", credits=1, value_yen=300_000,
                                 credit_no=2,
                                 reason="t", effective_at=jst(2026, 10, 20), idempotency_key="earned:2")
        s.add_all([old, new])
        s.flush()
        s.add(PartnerLedgerEntry(partner="careerrelay", kind="redeemed", credits=-1, value_yen=-300_000,
                                 credit_no=1, earned_entry_id=old.id, hire_ref="H1", reason="t",
                                 effective_at=jst(2026, 10, 25), idempotency_key="redeemed:H1"))


#: October's cost inputs and the expected figures they give with one hire.
OCTOBER_COSTS = {"month": "2026-10", "advertising_yen": 400_000, "agency_fees_yen": 1_000_000,
                 "recruiter_time_yen": 600_000, "other_internal_yen": 200_000, "running_cost_yen": 50_000,
                 "first_year_pay_yen": 5_000_000}
