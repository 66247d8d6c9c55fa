"""The published counts of a run's result: keys and order are what artifacts, docs and stored stats show."""

from __future__ import annotations

from datetime import UTC, datetime

from junkan.outbox.enqueue import EnqueueResult
from junkan.outbox.recontact import RecontactEnqueue
from junkan.outbox.renewal_mail import RenewalEnqueue
from junkan.outbox.sender import SendCounts
from junkan.partner.attribution import AttributionCounts


def test_send_counts_publish_every_count_in_order_with_flags_as_numbers() -> None:
    counts = SendCounts(sent=3, fatal=True, errors={"HTTP 500": 1}).counts()
    assert list(counts) == ["claimed", "sent", "failed", "retry", "suppressed", "cancelled", "unknown",
                            "fatal", "held", "provider_unavailable", "template_error", "outside_window",
                            "previewed", "no_consent", "hired_since", "applied_since", "partner_dropped"]
    assert counts["sent"] == 3 and counts["fatal"] == 1 and counts["outside_window"] == 0
    assert type(counts["fatal"]) is int


def test_enqueue_results_keep_their_published_keys_and_order() -> None:
    assert list(EnqueueResult().counts()) == ["due", "backlog", "enqueued", "suppressed", "cancelled",
                                              "revived", "no_address"]
    assert RenewalEnqueue(expiring=4, enqueued=1, already=2).counts() == {
        "expiring": 4, "enqueued": 1, "already_asked": 2, "opted_out": 0, "suppressed": 0, "no_address": 0}
    assert list(RecontactEnqueue(enqueued=2).counts().items()) == [
        ("people", 0), ("mails_enqueued", 2), ("already_enqueued", 0), ("held_out", 0),
        ("no_recontact_consent", 0), ("suppressed", 0), ("no_address", 0), ("no_longer_eligible", 0)]


def test_add_sums_the_counts_and_keeps_a_flag_set_in_either() -> None:
    total = SendCounts(sent=1, held=2)
    total.add(SendCounts(sent=4, fatal=True))
    total.add(SendCounts(sent=1))
    assert (total.sent, total.held, total.fatal) == (6, 2, True)


def test_attribution_parts_merge_newest_report_and_counts_by_status() -> None:
    early, late = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    total = AttributionCounts()
    total.add(AttributionCounts(fetched=2, new_referrals=1, max_occurred_at=late,
                                by_status={"registered": 2}))
    total.add(AttributionCounts(fetched=1, signature_mismatch=1, max_occurred_at=early,
                                by_status={"registered": 1, "hired": 1}))
    assert total.as_dict() == {"fetched": 3, "new_referrals": 1, "already_known": 0, "quarantined": 0,
                               "new_suspicious": 0, "signature_mismatch": 1}
    assert total.max_occurred_at == late and total.by_status == {"registered": 3, "hired": 1}
