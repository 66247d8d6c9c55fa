"""Validation of ATS records before they reach the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from junkan.ats.base import ApplicationRecord, BadRecord
from junkan.ingest.validate import (
    LIMITS,
    QuarantineEntry,
    ValidApplication,
    Validator,
    address_review,
    jsonable,
    validate_record,
)
from junkan.plausibility import DateBounds

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def record(external_id: str = "1", status: str = "rejected", email: str | None = "taro@example.jp",
           **fields: object) -> ApplicationRecord:
    values: dict[str, object] = {"decided_at": T0, "updated_at": T0, "raw": {"id": external_id}}
    values.update(fields)
    return ApplicationRecord(external_id=external_id, status=status, email=email, **values)  # type: ignore[arg-type]


def valid(rec: ApplicationRecord) -> ValidApplication:
    result = validate_record(rec)
    assert isinstance(result, ValidApplication), getattr(result, "reason", None)
    return result


def reason(rec: ApplicationRecord) -> str:
    result = validate_record(rec)
    assert isinstance(result, QuarantineEntry), "expected the record to be quarantined"
    return result.reason


def test_values_are_normalised_as_stored() -> None:
    item = valid(record(email=" Ｔａｒｏ＠Ｅｘａｍｐｌｅ．ＪＰ ", name="ﾔﾏﾀﾞ\u3000ﾀﾛｳ",
                        phone="０９０－１２３４－５６７８", job_title=" 営業  (東京) ", locale="ja_JP",
                        tags=["新卒", " 新卒 ", "", "エンジニア"]))
    assert item.email_key == "taro@example.jp"
    assert item.display_name == "ヤマダ タロウ"
    assert item.phone_key == "+819012345678"
    assert item.job_title == "営業 (東京)"
    assert item.locale == "ja"
    assert item.tags == ("新卒", "エンジニア")


def test_an_unusable_phone_is_dropped_not_quarantined() -> None:
    assert valid(record(phone="call me")).phone_key is None


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (None, "missing e-mail address"),
        ("   ", "missing e-mail address"),
        ("taro@localhost", "invalid e-mail address (expected name@domain.tld)"),
        ("taro.example.jp", "invalid e-mail address (expected name@domain.tld)"),
        # Identity keys are never guessed: inner whitespace or a broken dot-atom makes an address invalid.
        ("ta ro@example.jp", "invalid e-mail address (expected name@domain.tld)"),
        ("trail.@example.jp", "invalid e-mail address (expected name@domain.tld)"),
        ("..dots@example.jp", "invalid e-mail address (expected name@domain.tld)"),
        ("ta\x00ro@example.jp", "field email contains a control character (U+0000)"),
    ],
)
def test_an_unusable_address_is_dropped_and_the_decision_kept_for_review(email: str | None,
                                                                         expected: str) -> None:
    item = valid(record(email=email, raw={"id": "1", "_row": 7}))
    assert (item.email_key, item.status, item.address_problem) == (None, "rejected", f"row 7: {expected}")
    entry = address_review(item)
    assert entry is not None and (entry.record_type, entry.reason, entry.external_id) == (
        "address", f"row 7: {expected}", "1")


def test_a_usable_address_needs_no_review() -> None:
    item = valid(record())
    assert (item.email_key, item.address_problem, address_review(item)) == ("taro@example.jp", None, None)


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (record(status="書類選考"), "unknown status '書類選考' (expected one of in_process, hired, rejected, "
                                  "withdrawn)"),
        (record(status=""), "unknown status '(empty)' (expected one of in_process, hired, rejected, "
                            "withdrawn)"),
        (record(status="hired", decided_at=None, updated_at=None),
         "status 'hired' without a decision date (decided_at / 選考結果日)"),
        (record(external_id="  "), "missing application id"),
        (record(external_id="x" * 129), "application id is 129 characters (limit 128)"),
        (record(reason_text="理" * 501), "field reason_text is 501 characters (limit 500)"),
        (record(job_title="J" * 301), "field job_title is 301 characters (limit 300)"),
        (record(stage="S" * 201), "field stage is 201 characters (limit 200)"),
        (record(name="山田\x00太郎"), "field name contains a control character (U+0000)"),
        (record(reason_text="理由\x07"), "field reason_text contains a control character (U+0007)"),
        (record(tags=("a", "b\ud800")), "field tags contains a control character (U+D800)"),
        (record(updated_at=datetime(9999, 12, 31, tzinfo=UTC)),
         "implausible date in field updated_at: in the future (later than the run's clock plus 1 day)"),
        (record(applied_at=datetime(1989, 1, 8, tzinfo=UTC)),
         "implausible date in field applied_at: before 1990"),
    ],
)
def test_quarantine_reasons_are_readable(rec: ApplicationRecord, expected: str) -> None:
    assert reason(rec) == expected


def test_every_problem_of_a_record_is_listed() -> None:
    assert reason(record(email="nope", status="maybe")) == (
        "invalid e-mail address (expected name@domain.tld); "
        "unknown status 'maybe' (expected one of in_process, hired, rejected, withdrawn)")


def test_limits_follow_the_model_columns() -> None:
    assert LIMITS == {"external_id": 128, "name": 200, "job_external_id": 128, "job_title": 300,
                      "reason_external_id": 200, "reason_text": 500, "stage": 200}


def test_decision_date_rules() -> None:
    assert valid(record(decided_at=None, updated_at=T0)).decided_at == T0
    assert valid(record(status="in_process", decided_at=T0)).decided_at is None  # an un-reject clears it
    naive = datetime(2026, 11, 2, 1, 0)
    assert valid(record(decided_at=naive)).decided_at == T0


def test_reasons_only_travel_with_rejected_or_withdrawn() -> None:
    item = valid(record(status="hired", reason_external_id="9", reason_text="スキル不足"))
    assert (item.reason_external_id, item.reason_text) == (None, None)


def test_content_hash_ignores_touches_but_not_changes() -> None:
    base = valid(record())
    touched = valid(record(updated_at=T0 + timedelta(days=1), raw={"other": 1}))
    assert touched.content_hash == base.content_hash
    assert valid(record(stage="最終面接")).content_hash != base.content_hash
    assert valid(record(consents={"recontact": True})).content_hash != base.content_hash
    assert valid(record(email="TARO@example.jp")).content_hash == base.content_hash


def test_quarantine_fingerprint_is_stable_per_record() -> None:
    first = validate_record(record(status="bad"))
    again = validate_record(record(status="bad"))
    other = validate_record(record(external_id="2", status="bad"))
    assert isinstance(first, QuarantineEntry) and isinstance(again, QuarantineEntry)
    assert isinstance(other, QuarantineEntry)
    assert first.fingerprint == again.fingerprint != other.fingerprint


def test_validator_handles_bad_records_and_duplicates_across_batches() -> None:
    validator = Validator()
    first = validator.validate([record("1"), BadRecord(reason="row 3: unreadable", raw={"_row": 3}),
                                record("2", status="in_process")])
    assert [v.external_id for v in first.valid] == ["1", "2"]
    assert [q.reason for q in first.quarantined] == ["row 3: unreadable"]

    second = validator.validate([
        record("1"),  # identical repeat
        record("2", status="rejected"),  # same updated_at, different data: conflict
        record("3", updated_at=T0), record("3", updated_at=T0 - timedelta(hours=1), stage="old"),  # stale
    ])
    assert [v.external_id for v in second.valid] == ["3"]
    assert (second.repeats, second.stale) == (1, 1)
    assert [q.external_id for q in second.quarantined] == ["2"]
    assert "conflicting data" in second.quarantined[0].reason


def test_a_newer_version_in_the_same_batch_replaces_the_older_one() -> None:
    result = Validator().validate([record("1", status="in_process"),
                                   record("1", updated_at=T0 + timedelta(minutes=5))])
    assert [(v.external_id, v.status) for v in result.valid] == [("1", "rejected")]
    assert result.quarantined == []


def test_whitespace_controls_are_normalised_away_not_quarantined() -> None:
    item = valid(record(name="山田\t太郎\x1c", stage="一次\n面接"))
    assert (item.display_name, item.stage) == ("山田 太郎", "一次 面接")


def test_a_reason_never_quotes_the_personal_value() -> None:
    text = reason(record(email="taro\x00secret@example.jp", name="山田\x01太郎", phone="090\x001234"))
    assert "secret" not in text and "山田" not in text and "1234" not in text
    # Quarantined for the other fields; the address problem is named with them.
    assert text == ("field email contains a control character (U+0000); "
                    "field phone contains a control character (U+0000); "
                    "field name contains a control character (U+0001)")


def test_raw_payloads_are_made_storable_and_kept_otherwise() -> None:
    kept = {"氏名": "山田", "メモ": "改行\nあり\x01", "_row": 3}
    assert jsonable(kept) is kept  # nothing unstorable: the row itself, no copy
    unstorable = {"a\x00": ["x\udc80", {"b": "\x00"}], "n": 1}
    assert jsonable(unstorable) == {"a\ufffd": ["x\ufffd", {"b": "\ufffd"}], "n": 1}


def test_the_date_window_is_the_runs() -> None:
    now = datetime(2026, 11, 5, tzinfo=UTC)
    bounds = DateBounds.around(now, ZoneInfo("Asia/Tokyo"), timedelta(hours=6))
    validator = Validator(dates=bounds)
    result = validator.validate([record("1", updated_at=now + timedelta(hours=5)),
                                 record("2", updated_at=now + timedelta(hours=7))])
    assert [v.external_id for v in result.valid] == ["1"]
    assert [q.reason for q in result.quarantined] == [
        "implausible date in field updated_at: in the future (later than the run's clock plus 6 hours)"]
