"""Decision ingest against the real database (SQLite by default, PostgreSQL with JUNKAN_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from junkan.ats.base import BadRecord, ReasonRecord
from junkan.config import ConsentSettings
from junkan.db.models import (
    Application,
    Candidate,
    Consent,
    DecisionLog,
    Job,
    Message,
    Quarantine,
    RejectionReason,
    Watermark,
)
from junkan.ingest import MAPPING_VERSION, ReasonMapping, ingest
from junkan.ingest.service import WATERMARK_OVERLAP
from tests.db_support import wipe
from tests.integration._ingest_support import RERUN_BOOKKEEPING, T0, FixedClock, ListAdapter, app, dump, rows


def _scalar(engine: Engine, query):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def _app_row(engine: Engine, external_id: str, source: str = "test"):  # type: ignore[no-untyped-def]
    found = rows(engine, Application, Application.source == source, Application.external_id == external_id)
    assert len(found) == 1, f"application {external_id} not ingested"
    return found[0]


def _mixed_records() -> list:
    return [
        app("1", "rejected"),
        app("2", "hired", reason_external_id=None),
        app("3", "withdrawn", reason_external_id="r-declined"),
        app("4", "in_process"),
        app("5", "rejected", reason_external_id=None, reason_text="ポジション充足のため",
            job_external_id=None, job_title="データアナリスト"),
        app("6", "rejected", email="not-an-address"),
        app("7", "offer_extended"),
        BadRecord(reason="row 9: column 応募日 (applied_at): cannot read the date '2026/13/45'",
                  raw={"氏名": "x", "_row": 9}, external_id="9"),
    ]


def test_rerunning_the_same_window_changes_nothing(engine: Engine) -> None:
    clock = FixedClock()
    adapter = ListAdapter(_mixed_records())
    first = ingest(engine, adapter, as_of=None, clock=clock)
    # "6" has no usable address: stored and counted (it is a decision), listed for review, not quarantined.
    assert (first.new, first.rejected, first.hired, first.withdrawn, first.quarantined, first.no_address) == (
        6, 3, 1, 1, 2, 1)
    before = dump(engine, RERUN_BOOKKEEPING)

    clock.advance(hours=6)  # any accidental write of "now" would show up in the dump
    second = ingest(engine, adapter, as_of=None, full=True, clock=clock)

    assert dump(engine, RERUN_BOOKKEEPING) == before
    assert second.as_dict() == {**second.as_dict(), "new": 0, "updated": 0, "unchanged": 6, "rejected": 0,
                                "hired": 0, "withdrawn": 0, "reapplied": 0, "unrejected": 0, "quarantined": 2,
                                "no_address": 1}
    seen = [(q.external_id, q.record_type, q.seen_count, q.last_seen) for q in rows(engine, Quarantine)]
    assert sorted(seen) == [("6", "address", 2, clock.now), ("7", "application", 2, clock.now),
                            ("9", "application", 2, clock.now)]


def test_full_width_email_is_one_candidate_across_two_sources(engine: Engine) -> None:
    greenhouse = ListAdapter([app("gh-1", "rejected", email=" Ａ＠ＥＸＡＭＰＬＥ．ＣＯＭ ",
                                  phone="090-1234-5678", name="ﾔﾏﾀﾞ ﾀﾛｳ")], source="greenhouse")
    later = T0 + timedelta(days=3)
    spreadsheet = ListAdapter([app("csv-1", "in_process", email="a@example.com", phone="08011112222",
                                   at=later, applied_at=later)], source="csv")
    ingest(engine, greenhouse, as_of=None)
    ingest(engine, spreadsheet, as_of=None)

    candidates = rows(engine, Candidate)
    assert len(candidates) == 1
    person = candidates[0]
    assert person.email_key == "a@example.com"
    # Phone is an attribute only: a different number does not split the person; the newest one is kept.
    assert person.phone_key == "+818011112222"
    applications = rows(engine, Application)
    assert {(a.source, a.external_id, a.candidate_id) for a in applications} == {
        ("greenhouse", "gh-1", person.id), ("csv", "csv-1", person.id)}


def test_display_names_are_normalised_for_display(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", name="ﾔﾏﾀﾞ　ﾀﾛｳ")]), as_of=None)
    assert rows(engine, Candidate)[0].display_name == "ヤマダ タロウ"


def test_reapplication_after_rejection_is_flagged_and_counted_once(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("old", "rejected", email="re@example.jp")]), as_of=None)
    later = T0 + timedelta(days=40)
    adapter = ListAdapter([app("old", "rejected", email="re@example.jp"),
                           app("new", "in_process", email="RE@example.jp", at=later, applied_at=later)])
    clock = FixedClock(later + timedelta(days=1))  # the new application is not dated in the future
    counts = ingest(engine, adapter, as_of=None, full=True, clock=clock)

    assert counts.reapplied == 1
    old, new = _app_row(engine, "old"), _app_row(engine, "new")
    assert new.is_reapplication is True and new.previous_application_id == old.id
    assert old.is_reapplication is False
    assert ingest(engine, adapter, as_of=None, full=True, clock=clock).reapplied == 0


def test_reapplication_is_found_whatever_order_the_source_lists_them(engine: Engine) -> None:
    later = T0 + timedelta(days=60)
    # The new application is listed first (e.g. sorted by id in another system), the old one after it,
    # in a different batch.
    adapter = ListAdapter([
        app("new", "in_process", email="x@example.jp", at=later, applied_at=later),
        app("filler", "in_process"),
        app("old", "withdrawn", email="x@example.jp", reason_external_id="r-declined"),
    ])
    counts = ingest(engine, adapter, as_of=None, batch_size=2, clock=FixedClock(later + timedelta(days=1)))
    assert counts.reapplied == 1
    assert _app_row(engine, "new").previous_application_id == _app_row(engine, "old").id


def test_parallel_applications_are_not_reapplications(engine: Engine) -> None:
    # Two applications sent the same week; one is rejected later. The other was not made *after* it.
    adapter = ListAdapter([
        app("a", "rejected", email="p@example.jp", applied_at=T0 - timedelta(days=20)),
        app("b", "in_process", email="p@example.jp", applied_at=T0 - timedelta(days=19)),
    ])
    assert ingest(engine, adapter, as_of=None).reapplied == 0
    assert not any(a.is_reapplication for a in rows(engine, Application))


def _pending_notice(engine: Engine, application_external_id: str, state: str = "pending") -> int:
    row = _app_row(engine, application_external_id)
    with engine.begin() as conn:
        result = conn.execute(insert(Message).values(
            public_id=f"pub{row.id}{state}", logical_key=f"application:{row.id}:rejection", kind="rejection",
            candidate_id=row.candidate_id, application_id=row.id, state=state, due_at=T0 + timedelta(days=2),
        ))
        return int(result.inserted_primary_key[0])


def test_unreject_returns_to_in_process_logs_it_and_cancels_the_pending_notice(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", "rejected"), app("2", "rejected")]), as_of=None)
    pending = _pending_notice(engine, "1")
    accepted = _pending_notice(engine, "2", state="accepted")

    later = T0 + timedelta(hours=5)
    counts = ingest(engine, ListAdapter([app("1", "in_process", at=later), app("2", "rejected")]), as_of=None,
                    full=True)

    assert (counts.unrejected, counts.updated, counts.notices_cancelled) == (1, 1, 1)
    row = _app_row(engine, "1")
    assert row.status == "in_process" and row.decided_at is None and row.reason_id is None
    log = rows(engine, DecisionLog, DecisionLog.application_id == row.id)
    assert [(e.old_status, e.new_status) for e in log] == [(None, "rejected"), ("rejected", "in_process")]
    assert log[-1].payload == {"id": "1", "status": "in_process"}
    messages = {m.id: m for m in rows(engine, Message)}
    assert (messages[pending].state, messages[pending].cancelled_reason) == ("cancelled", "unrejected")
    assert messages[accepted].state == "accepted"  # already with the provider: nothing to cancel


def test_hire_after_rejection_cancels_the_pending_notice(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", "rejected")]), as_of=None)
    pending = _pending_notice(engine, "1")
    counts = ingest(engine, ListAdapter([app("1", "hired", reason_external_id=None,
                                             at=T0 + timedelta(days=1))]), as_of=None, full=True)
    assert (counts.hired, counts.unrejected, counts.notices_cancelled) == (1, 0, 1)
    message = rows(engine, Message, Message.id == pending)[0]
    assert (message.state, message.cancelled_reason) == ("cancelled", "hired")


def test_a_notice_cancelled_by_ingest_while_claimed_has_its_lease_released(engine: Engine) -> None:
    """Ingest cancels through the outbox's transition API: a cancelled row never looks claimed."""
    ingest(engine, ListAdapter([app("1", "rejected")]), as_of=None)
    pending = _pending_notice(engine, "1")
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.id == pending).values(
            lease_owner="a-send-run", lease_until=T0 + timedelta(hours=1)))
    ingest(engine, ListAdapter([app("1", "hired", reason_external_id=None, at=T0 + timedelta(days=1))]),
           as_of=None, full=True)
    message = rows(engine, Message, Message.id == pending)[0]
    assert (message.state, message.cancelled_reason) == ("cancelled", "hired")
    assert (message.lease_owner, message.lease_until) == (None, None)


def test_a_change_without_status_change_is_an_update_without_a_log_entry(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", "in_process", stage="書類選考")]), as_of=None)
    counts = ingest(engine, ListAdapter([app("1", "in_process", stage="一次面接",
                                             at=T0 + timedelta(days=1))]), as_of=None, full=True)
    assert (counts.updated, counts.new, counts.rejected) == (1, 0, 0)
    assert _app_row(engine, "1").stage_reached == "一次面接"
    assert len(rows(engine, DecisionLog)) == 1


def test_bad_records_are_quarantined_with_readable_reasons_and_the_rest_is_ingested(engine: Engine) -> None:
    long_name = "長" * 201
    records = [
        app("ok", "rejected"),
        app("no-mail", "rejected", email=""),
        app("bad-mail", "rejected", email="taro@@example"),
        app("odd-status", "最終面接待ち"),
        app("no-date", "rejected", decided_at=None, updated_at=None),
        app("long", "rejected", name=long_name),
        BadRecord(reason="row 12: column 選考結果日 (decided_at): cannot read the date 'きのう'",
                  raw={"_row": 12}, external_id="unparsable"),
    ]
    counts = ingest(engine, ListAdapter(records), as_of=None)
    # Without a usable address the decision is still stored (and counted); only the unstorable stay out.
    assert (counts.new, counts.quarantined, counts.no_address) == (3, 4, 2)
    assert len(rows(engine, Application)) + counts.quarantined == len(records)
    reasons = {q.external_id: q.reason for q in rows(engine, Quarantine)}
    kinds = {q.external_id: q.record_type for q in rows(engine, Quarantine)}
    assert kinds == {"no-mail": "address", "bad-mail": "address", "odd-status": "application",
                     "no-date": "application", "long": "application", "unparsable": "application"}
    keyless = [rows(engine, Candidate, Candidate.id == _app_row(engine, i).candidate_id)[0]
               for i in ("no-mail", "bad-mail")]
    assert [c.email_key for c in keyless] == [None, None] and keyless[0].id != keyless[1].id
    assert reasons["no-mail"] == "missing e-mail address"
    assert reasons["bad-mail"] == "invalid e-mail address (expected name@domain.tld)"
    assert reasons["odd-status"].startswith("unknown status '最終面接待ち'")
    assert reasons["no-date"] == "status 'rejected' without a decision date (decided_at / 選考結果日)"
    assert reasons["long"] == "field name is 201 characters (limit 200)"
    assert "cannot read the date" in reasons["unparsable"]
    # The raw record is kept for the operator, and the reason never repeats a personal value.
    bad_mail = rows(engine, Quarantine, Quarantine.external_id == "bad-mail")[0]
    assert bad_mail.raw == {"id": "bad-mail", "status": "rejected"}
    assert all("taro" not in r and long_name not in r for r in reasons.values())


def test_decided_at_falls_back_to_the_sources_update_time(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", "rejected", decided_at=None, updated_at=T0)]), as_of=None)
    assert _app_row(engine, "1").decided_at == T0


def test_a_fixed_record_resolves_its_quarantine_entry(engine: Engine) -> None:
    ingest(engine, ListAdapter([app("1", "rejected", email="broken")]), as_of=None)
    assert rows(engine, Quarantine)[0].resolved_at is None
    clock = FixedClock()
    ingest(engine, ListAdapter([app("1", "rejected", at=T0 + timedelta(days=1))]), as_of=None, clock=clock)
    assert rows(engine, Quarantine)[0].resolved_at == clock.now
    assert _app_row(engine, "1").status == "rejected"


def test_duplicate_ids_identical_kept_once_conflicting_quarantined_newer_supersedes(engine: Engine) -> None:
    records = [
        app("same", "rejected"),
        app("same", "rejected"),  # a page read twice
        app("clash", "rejected"),
        app("clash", "hired", reason_external_id=None),  # same updated_at, different data
        app("moved", "in_process"),
        app("moved", "rejected", at=T0 + timedelta(hours=1)),  # edited while the source was paged
    ]
    counts = ingest(engine, ListAdapter(records), as_of=None)
    assert (counts.new, counts.quarantined) == (3, 1)
    assert _app_row(engine, "clash").status == "rejected"
    assert _app_row(engine, "moved").status == "rejected"
    entry = rows(engine, Quarantine)[0]
    assert entry.external_id == "clash"
    assert entry.reason == ("duplicate application id 'clash' with conflicting data (differs in status, "
                            "reason_external_id; the first occurrence was ingested)")


def test_conflicting_duplicate_across_batches_is_quarantined_too(engine: Engine) -> None:
    records = [app("clash", "rejected"), app("x", "in_process"),
               app("clash", "hired", reason_external_id=None)]
    counts = ingest(engine, ListAdapter(records), as_of=None, batch_size=2)
    assert (counts.new, counts.quarantined) == (2, 1)
    assert "differs from an earlier batch" in rows(engine, Quarantine)[0].reason


def test_watermark_advances_to_newest_update_and_bounds_the_next_read(engine: Engine) -> None:
    adapter = ListAdapter([app(str(i), "rejected", at=T0 + timedelta(hours=i)) for i in range(5)])
    ingest(engine, adapter, as_of=None, batch_size=2)
    newest = T0 + timedelta(hours=4)
    assert _scalar(engine, select(Watermark.value).where(Watermark.source == "test")) == newest

    counts = ingest(engine, adapter, as_of=None)
    assert adapter.since_calls[-1] == newest - WATERMARK_OVERLAP
    assert (counts.unchanged, counts.new) == (1, 0)  # only the record inside the overlap was re-read


def test_as_of_re_reads_from_that_day_in_japan(engine: Engine) -> None:
    adapter = ListAdapter([app("1", at=T0)])
    ingest(engine, adapter, as_of=None)
    ingest(engine, adapter, as_of=T0.date() - timedelta(days=3))
    # 2026-10-30 00:00 in Tokyo is 2026-10-29 15:00 UTC.
    assert adapter.since_calls[-1].isoformat() == "2026-10-29T15:00:00+00:00"


def test_crash_mid_run_keeps_the_watermark_and_the_next_run_completes(engine: Engine) -> None:
    records = [app(str(i), "rejected", at=T0 + timedelta(hours=i)) for i in range(10)]
    clock = FixedClock()
    ingest(engine, ListAdapter(records), as_of=None, batch_size=3, clock=clock)
    clean = dump(engine, RERUN_BOOKKEEPING)

    wipe(engine)  # start again from an empty database
    with pytest.raises(ConnectionError):
        ingest(engine, ListAdapter(records, fail_after=7), as_of=None, batch_size=3, clock=clock)
    # Batch 1 committed; batch 2 was read but not yet written when reading ahead for batch 3 failed.
    assert len(rows(engine, Application)) == 3
    assert rows(engine, Watermark) == []

    counts = ingest(engine, ListAdapter(records), as_of=None, batch_size=3, clock=clock)
    assert (counts.new, counts.unchanged) == (7, 3)
    assert dump(engine, RERUN_BOOKKEEPING) == clean


def test_consents_are_recorded_only_when_the_source_changes_its_statement(engine: Engine) -> None:
    first = app("1", "rejected", consents={"talent_pool": True, "partner_info": False},
                raw={"id": "1", "consent_wording_version": "2026-04"})
    ingest(engine, ListAdapter([first]), as_of=None)
    same_statement = app("1", "rejected", stage="面接", consents={"talent_pool": True, "partner_info": False},
                         raw={"id": "1", "consent_wording_version": "2026-04"}, at=T0 + timedelta(days=1))
    ingest(engine, ListAdapter([same_statement]), as_of=None, full=True)
    ingest(engine, ListAdapter([app("1", "rejected", consents={"talent_pool": False, "partner_info": False},
                                    at=T0 + timedelta(days=2))]), as_of=None, full=True)
    log = [(c.purpose, c.granted, c.source, c.wording_version, c.recorded_at) for c in rows(engine, Consent)]
    assert log == [
        ("partner_info", False, "test", "2026-04", T0),
        ("talent_pool", True, "test", "2026-04", T0),
        ("talent_pool", False, "test", "ats", T0 + timedelta(days=2)),
    ]


def test_ingested_consents_expire_as_the_settings_say(engine: Engine) -> None:
    record = app("1", "rejected", consents={"talent_pool": True, "partner_info": True, "recontact": False})
    ingest(engine, ListAdapter([record]), as_of=None, consent=ConsentSettings(partner_info_days=30))
    expiry = {c.purpose: c.expires_at for c in rows(engine, Consent)}
    # talent_pool: the 365-day default; partner_info: as configured; a refusal never expires.
    assert expiry == {"talent_pool": T0 + timedelta(days=365), "partner_info": T0 + timedelta(days=30),
                      "recontact": None}


def test_reasons_are_classified_with_the_mapping_version(engine: Engine) -> None:
    records = [app("1", "rejected", reason_external_id="r-other"),
               app("2", "rejected", reason_external_id=None, reason_text="経歴詐称が判明"),
               app("3", "withdrawn", reason_external_id="r-declined")]
    ingest(engine, ListAdapter(records), as_of=None)
    found = {r.external_id: (r.category, r.pool_eligibility, r.mapping_version, r.kind)
             for r in rows(engine, RejectionReason)}
    assert found["r-other"] == ("other_candidate", "silver", MAPPING_VERSION, "rejected")
    assert found["r-spam"] == ("spam", "never", MAPPING_VERSION, "rejected")
    assert found["r-skill"] == ("skills", "standard", MAPPING_VERSION, "rejected")
    assert found["r-declined"] == ("withdrawn", "standard", MAPPING_VERSION, "withdrawn")
    assert found["text:rejected:経歴詐称が判明"] == ("misconduct", "never", MAPPING_VERSION, "rejected")
    assert _app_row(engine, "2").reason_id is not None

    custom = ReasonMapping.from_dict({"version": "acme-1", "rules": [
        {"category": "skills_java", "pool_eligibility": "standard", "keywords": ["スキル"]}]})
    ingest(engine, ListAdapter(records), as_of=None, full=True, mapping=custom)
    skill = rows(engine, RejectionReason, RejectionReason.external_id == "r-skill")[0]
    assert (skill.category, skill.mapping_version) == ("skills_java", f"{MAPPING_VERSION}+acme-1")
    text_key = "text:rejected:経歴詐称が判明"
    text_reason = rows(engine, RejectionReason, RejectionReason.external_id == text_key)[0]
    assert text_reason.mapping_version == f"{MAPPING_VERSION}+acme-1"


def test_jobs_from_reference_data_and_placeholders_for_unknown_ones(engine: Engine) -> None:
    adapter = ListAdapter([app("1", job_external_id="job-1"), app("2", job_external_id="job-404"),
                           app("3", job_external_id=None, job_title="営業 (東京)")],
                          reasons=[ReasonRecord("r-skill", "スキル不足")])
    ingest(engine, adapter, as_of=None)
    jobs = {j.external_id: (j.title, j.status) for j in rows(engine, Job)}
    assert jobs == {"job-1": ("バックエンドエンジニア", "open"), "job-404": ("job-404", "unknown"),
                    "title:営業 (東京)": ("営業 (東京)", "unknown")}
    assert all(a.job_id is not None for a in rows(engine, Application))


def test_many_batches_give_the_same_result_as_one(engine: Engine) -> None:
    records = [app(str(i), ("rejected", "hired", "in_process")[i % 3], at=T0 + timedelta(minutes=i),
                   reason_external_id="r-skill" if i % 3 == 0 else None) for i in range(57)]
    clock = FixedClock()
    small = ingest(engine, ListAdapter(records), as_of=None, batch_size=5, clock=clock)
    small_dump = dump(engine, RERUN_BOOKKEEPING)
    assert (small.new, small.rejected, small.hired) == (57, 19, 19)
    wipe(engine)
    ingest(engine, ListAdapter(records), as_of=None, batch_size=1000, clock=clock)
    assert dump(engine, RERUN_BOOKKEEPING) == small_dump
