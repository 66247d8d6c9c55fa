"""A small hiring month (October 2026, Asia/Tokyo) whose every KPI is worked out by hand in the tests.

Times are written in JST; the October period is [2026-10-01 00:00 JST, 2026-11-01 00:00 JST).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Job, Message
from junkan.db.models_engagement import Click, EmailEvent
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral
from junkan.db.models_pool import MatchRun, PoolMatch, PoolMember, PoolReapplication

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
            # The person clicked twice (one click for the KPIs); a mail scanner fetched the link too.
            Click(message_id=m1.id, link="partner", clicked_at=jst(2026, 10, 15), last_at=jst(2026, 10, 16),
                  fetches=2),
            Click(message_id=m1.id, link="partner", kind="scanner", clicked_at=jst(2026, 10, 14),
                  last_at=jst(2026, 10, 14), fetches=3),
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


def october_settings(settings: Settings, **report: object) -> Settings:
    """`settings` with October's costs, a baseline to compare with and groups of two people or more."""
    return settings.model_copy(update={"report": settings.report.model_validate(
        {"costs": [OCTOBER_COSTS], "baseline": {"cost_per_hire_yen": 2_750_000, "reapplication_rate": 0.25},
         "min_group_size": 2, **report})})


def _pool_person(s, job: Job, n: int) -> tuple[Candidate, Application]:  # type: ignore[no-untyped-def]
    """A pooled person whose only earlier application was withdrawn in 2025 (outside every figure)."""
    cand = Candidate(email_key=f"p{n}@example.com")
    s.add(cand)
    s.flush()
    return cand, _app(s, cand, job, "withdrawn", jst(2025, 3, 1), jst(2025, 4, 1))


def load_october_pool(engine: Engine) -> None:
    """The talent pool on top of `load_october`: one auto re-contact run on Fri 2 October 2026.

    - mailed (6): c1, c5, p0–p3; re-applied: c1 (Oct 15, same job), c5 (Oct 3, hired Oct 20), p0 (Nov 1
      00:00 JST, the first instant after October);
    - held out (4): c3, p4–p6; re-applied: c3 (Oct 31 23:59);
    - clicks: c1 on a job link, p1 by a provider click event, p2 only on the unsubscribe link;
    - pool members: c1, c5, p0–p6 (9; silver: c1, p0, p1, p4), consents ending: p0 Nov 1 00:00 and p2
      Nov 30 23:59 (within 30 days after October), p1 Dec 1 00:00 (the 31st day), p3 Oct 31 23:59 (gone).
    """
    with session_scope(engine) as s:
        sales = s.scalar(select(Job).where(Job.external_id == "J1"))
        dev = s.scalar(select(Job).where(Job.external_id == "J2"))
        assert sales is not None and dev is not None

        def cand(key: str) -> Candidate:
            found = s.scalar(select(Candidate).where(Candidate.email_key == f"{key}@example.com"))
            assert found is not None
            return found

        c1, c3, c5 = cand("c1"), cand("c3"), cand("c5")
        later = {c.id: s.scalar(select(Application).where(Application.candidate_id == c.id, cond))
                 for c, cond in ((c1, Application.is_reapplication.is_(True)),
                                 (c5, Application.status == "hired"),
                                 (c3, Application.applied_at == jst(2026, 10, 31, 23, 59)))}
        people: dict[str, tuple[Candidate, Application]] = {}
        for key, c in (("c1", c1), ("c3", c3), ("c5", c5)):
            people[key] = (c, _app(s, c, sales, "withdrawn", jst(2025, 3, 1), jst(2025, 4, 1)))
        for n in range(7):
            people[f"p{n}"] = _pool_person(s, sales, n)
        p0_back = _app(s, people["p0"][0], sales, "in_process", jst(2026, 11, 1, 0, 0), None)
        later[people["p0"][0].id] = p0_back

        run_at = jst(2026, 10, 2, 9)
        run = MatchRun(as_of=run_at.date(), run_at=run_at, new_since=jst(2026, 9, 18), mode="auto",
                       params={}, counts={}, score_method="rules")
        s.add(run)
        s.flush()
        matches: dict[str, PoolMatch] = {}
        for rank, (key, (c, app)) in enumerate(people.items(), start=1):
            held = key in ("c3", "p4", "p5", "p6")
            msg = None
            if not held:
                sent = jst(2026, 10, 2, 18)
                msg = Message(public_id=f"rc-{key}", logical_key=f"match:{key}:recontact", kind="recontact",
                              candidate_id=c.id, state="accepted", due_at=run_at, accepted_at=sent,
                              sending_at=sent, template_name="recontact", template_version="v1")
                s.add(msg)
                s.flush()
            job = dev if key == "c1" else sales
            m = PoolMatch(run_id=run.id, job_id=job.id, candidate_id=c.id, application_id=app.id, rank=rank,
                          score=60.0, required_score=1.0, preferred_score=0.0, text_score=0.5,
                          location_score=1.0, potential_score=40.0, bucket="良い一致", why="t", holdout=held,
                          message_id=msg.id if msg else None)
            s.add(m)
            s.flush()
            matches[key] = m
        day = jst(2026, 10, 3)
        s.add_all([Click(message_id=matches["c1"].message_id, link=f"job:{dev.id}", clicked_at=day),
                   Click(message_id=matches["p2"].message_id, link="unsubscribe", clicked_at=day),
                   EmailEvent(sg_event_id="rc-e1", dedup_key="rc-d1", message_id=matches["p1"].message_id,
                              event="click", occurred_at=jst(2026, 10, 3), payload={})])
        for key, grp in (("c1", "contacted"), ("c5", "contacted"), ("p0", "contacted"), ("c3", "holdout")):
            c, _ = people[key]
            back = later[c.id]
            assert back is not None
            m = matches[key]
            s.add(PoolReapplication(application_id=back.id, candidate_id=c.id, match_id=m.id, run_id=run.id,
                                    message_id=m.message_id, grp=grp, applied_at=back.applied_at,
                                    same_job=back.job_id == m.job_id, recorded_at=jst(2026, 11, 2)))
        silver = {"c1", "p0", "p1", "p4"}
        ends = {"p0": jst(2026, 11, 1, 0, 0), "p2": jst(2026, 11, 30, 23, 59), "p1": jst(2026, 12, 1, 0, 0),
                "p3": jst(2026, 10, 31, 23, 59)}
        for key in ("c1", "c5", *[f"p{n}" for n in range(7)]):
            c, app = people[key]
            s.add(PoolMember(candidate_id=c.id, eligibility="silver" if key in silver else "standard",
                             why_code="other_candidate", why="他の候補者を優先", application_id=app.id,
                             decided_at=app.decided_at, consent_until=ends.get(key)))
