"""A decision whose candidate has no usable address is stored, counted and shown apart, never mailed."""

from __future__ import annotations

from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message, Quarantine
from junkan.ingest import ingest
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.reports.build import build_report
from junkan.reports.periods import month
from tests.integration._ingest_support import FixedClock, ListAdapter, app, rows
from tests.integration._outbox_data import jst

#: After every notice of the records (decided 2026-11-02) is due, within notice.max_age_days.
ENQUEUE_AT = jst(2026, 11, 16, 10, 0)


def test_a_rejection_without_address_counts_and_its_notice_is_a_no_address_miss(
    engine: Engine, settings: Settings
) -> None:
    records = [app("ok", "rejected"), app("nomail", "rejected", email=""),
               app("badmail", "rejected", email="ta ro@example.jp"), app("odd", "保留")]
    counts = ingest(engine, ListAdapter(records), clock=FixedClock())
    # Rows in = rows stored + rows quarantined: only the unknown status cannot be stored.
    assert (counts.new, counts.quarantined, counts.no_address, counts.rejected) == (3, 1, 2, 3)
    assert len(rows(engine, Application)) + counts.quarantined == len(records)
    review = {q.external_id: (q.record_type, q.reason) for q in rows(engine, Quarantine)}
    assert review == {"nomail": ("address", "missing e-mail address"),
                      "badmail": ("address", "invalid e-mail address (expected name@domain.tld)"),
                      "odd": ("application", review["odd"][1])}

    with session_scope(engine) as s:
        result = enqueue_due_notices(s, settings, ENQUEUE_AT)
    assert (result.enqueued, result.no_address) == (1, 2)
    with session_scope(engine) as s:
        notices = {external_id: (state, reason) for external_id, state, reason in s.execute(
            select(Application.external_id, Message.state, Message.cancelled_reason)
            .join(Message, Message.application_id == Application.id))}
        keyless = s.scalars(
            select(Candidate.email_key).join(Application, Application.candidate_id == Candidate.id)
            .where(Application.external_id.in_(["nomail", "badmail"]))).all()
    assert notices == {"ok": ("pending", None), "nomail": ("cancelled", "no_address"),
                       "badmail": ("cancelled", "no_address")}
    assert keyless == [None, None]

    kpis = build_report(engine, settings, month(2026, 11), trend_months=0).kpis
    assert kpis["rejections"]["value"] == 3
    follow_up = kpis["follow_up_rate"]
    # Nothing accepted yet; both address-less rejections stay in the denominator, shown apart.
    assert follow_up["inputs"] == {"followed_up": 0, "eligible": 3}
    assert follow_up["apart"]["no_address"] == 2 and follow_up["apart"]["excluded_policy"] == 0
