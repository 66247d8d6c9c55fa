"""Attribution and the credit ledger, through the CSV adapter, on the migrated database (both dialects)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from junkan.clock import RunClock
from junkan.config import PartnerSettings
from junkan.db import session_scope
from junkan.db.models import Quarantine
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral, PartnerSyncState
from junkan.partner import ledger
from junkan.partner.ledger import ContractRule, NoCreditsError, PartnerSummary, summarize
from junkan.partner.sync import sync_partner
from tests.integration._partner_data import (
    ACCEPTED,
    SIGNER,
    add_notices,
    csv_partner,
    forged_code,
    ledger_rows,
    rows,
    tampered,
    write_report,
)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def sync(engine: Engine, partner: PartnerSettings, **kwargs: Any) -> dict[str, int]:
    clock = RunClock.fixed(kwargs.pop("now", NOW), as_of=kwargs.pop("as_of", None))
    return sync_partner(engine, partner, verify_code=SIGNER.verify_referral_code, clock=clock, **kwargs)


def summary(engine: Engine, partner: PartnerSettings, as_of: date = date(2026, 11, 20)) -> PartnerSummary:
    with session_scope(engine) as s:
        return summarize(s, ContractRule.from_settings(partner), as_of=as_of, tz=ZoneInfo("Asia/Tokyo"))


def ledger_snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    e = PartnerLedgerEntry
    return ledger_rows(engine, e.partner, e.kind, e.credits, e.value_yen, e.credit_no, e.hire_ref,
                       e.effective_at, e.idempotency_key)


def entries_sum(engine: Engine, partner: str = "careerrelay") -> tuple[int, int]:
    """Sum computed in Python over the rows, independently of ledger.balance()."""
    with session_scope(engine) as s:
        got = s.scalars(select(PartnerLedgerEntry).where(PartnerLedgerEntry.partner == partner)).all()
        return sum(e.credits for e in got), sum(e.value_yen for e in got)


def quarantined(engine: Engine) -> list[Quarantine]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Quarantine).order_by(Quarantine.id)))


def test_25_registrations_give_2_credits_and_progress_5_of_10(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 25)
    data = [[c, "registered", (ACCEPTED + timedelta(days=i + 1)).isoformat()] for i, c in enumerate(codes)]
    partner = csv_partner(write_report(tmp_path / "report.csv", data))

    stats = sync(engine, partner)

    assert stats["fetched"] == 25
    assert stats["new_referrals"] == 25
    assert stats["credits_earned"] == 2
    s = summary(engine, partner)
    assert (s.credits_earned, s.balance, s.progress) == (2, 2, "5 / 10")
    assert s.value_yen == 2 * 300_000
    assert s.registrations_all_time == 25
    assert entries_sum(engine) == (2, 600_000)
    with session_scope(engine) as sess:
        earned = sess.scalars(select(PartnerLedgerEntry).order_by(PartnerLedgerEntry.credit_no)).all()
    # Each credit is dated by the referral that completed it: the 10th and the 20th.
    assert [e.effective_at for e in earned] == [ACCEPTED + timedelta(days=10), ACCEPTED + timedelta(days=20)]
    assert [e.idempotency_key for e in earned] == ["earned:careerrelay:1", "earned:careerrelay:2"]
    assert "10 registered referrals" in earned[0].reason


def test_the_same_report_imported_twice_gives_the_same_ledger(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 23)
    data = rows(codes) + rows(codes[:4], "interviewed") + rows(codes[:3])  # restated rows included
    data += [[forged_code(), "registered", "2026-10-05T10:00:00+09:00"], ["", "registered", "2026-10-05"]]
    partner = csv_partner(write_report(tmp_path / "report.csv", data))

    first = sync(engine, partner)
    ledger_before = ledger_snapshot(engine)
    with session_scope(engine) as s:
        facts_before = s.scalar(select(func.count()).select_from(PartnerReferral))

    second = sync(engine, partner, now=NOW + timedelta(days=1))

    assert first["new_referrals"] == 27 and first["credits_earned"] == 2 and first["quarantined"] == 2
    assert second["new_referrals"] == 0 and second["credits_earned"] == 0
    assert second["already_known"] == 30  # 27 stored facts + 3 rows restated within the report
    assert ledger_snapshot(engine) == ledger_before
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(PartnerReferral)) == facts_before == 27
    q = quarantined(engine)
    # The same bad rows are not quarantined twice; the re-import is visible in seen_count.
    assert len(q) == 2 and all(item.seen_count == 2 for item in q)
    assert summary(engine, partner).balance == 2


def test_cp932_report_with_japanese_headers_and_naive_tokyo_times(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 10)
    data = [[c.upper(), "登録", "2026/10/05 10:00"] for c in codes]
    data.append([codes[0], "面談", "2026/10/09"])
    path = write_report(
        tmp_path / "紹介レポート.csv", data, encoding="cp932", header=("紹介コード", "ステータス", "発生日時")
    )

    stats = sync(engine, csv_partner(path))

    assert stats["new_referrals"] == 11 and stats["quarantined"] == 0
    with session_scope(engine) as s:
        fact = s.scalars(select(PartnerReferral).where(PartnerReferral.status == "registered")).first()
        assert fact is not None
        # Naive report times are the partner's local time (Asia/Tokyo by default).
        assert fact.occurred_at == datetime(2026, 10, 5, 1, 0, tzinfo=UTC)
        assert fact.ref_code in codes
        assert fact.reported_via == "csv"
    assert summary(engine, csv_partner(path)).balance == 1


def test_utf8_bom_report_and_a_folder_of_reports(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 12)
    folder = tmp_path / "reports"
    folder.mkdir()
    write_report(folder / "2026-10.csv", rows(codes[:6]), encoding="utf-8-sig")
    write_report(folder / "2026-11.csv", rows(codes[4:]), encoding="utf-8-sig")
    (folder / "notes.txt").write_text("not a report")

    stats = sync(engine, csv_partner(folder))

    assert stats["fetched"] == 14 and stats["new_referrals"] == 12 and stats["already_known"] == 2
    assert summary(engine, csv_partner(folder)).progress == "2 / 10"


def test_unknown_forged_tampered_and_foreign_codes_are_quarantined_never_counted(
    engine: Engine, tmp_path: Path
) -> None:
    mine = add_notices(engine, 2)
    theirs = add_notices(engine, 1, partner="otherrelay")
    valid_but_unknown = SIGNER.new_referral_code()
    data = rows([mine[0], valid_but_unknown, forged_code(), tampered(mine[1]), theirs[0]])
    data += [[mine[1], "hired-maybe", "2026-10-05"], [mine[1], "registered", "yesterday"]]
    partner = csv_partner(write_report(tmp_path / "report.csv", data))

    stats = sync(engine, partner)

    assert stats["new_referrals"] == 1
    assert stats["quarantined"] == 6
    q = quarantined(engine)
    assert {item.source for item in q} == {"partner:careerrelay"}
    assert {item.record_type for item in q} == {"referral"}
    reasons = sorted(item.reason for item in q)
    assert sum("forged or tampered" in r for r in reasons) == 2
    assert sum("unknown referral code" in r for r in reasons) == 1
    assert sum("issued for partner 'otherrelay'" in r for r in reasons) == 1
    assert sum("unknown status 'hired-maybe'" in r for r in reasons) == 1
    assert sum("occurred_at missing or not a date/time" in r for r in reasons) == 1
    by_code = {item.external_id: item.reason for item in q}
    assert "forged" in by_code[tampered(mine[1])]
    assert "unknown referral code" in by_code[valid_but_unknown]
    s = summary(engine, partner)
    assert (s.registrations_all_time, s.quarantined, s.balance) == (1, 6, 0)


def test_each_status_counts_once_however_often_reported(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 10)
    data = rows(codes) + rows(codes, when=ACCEPTED + timedelta(days=5)) + rows(codes[:5], "interviewed")
    data += rows(codes[:1], "placed") * 3
    partner = csv_partner(write_report(tmp_path / "report.csv", data))

    sync(engine, partner)

    s = summary(engine, partner)
    assert (s.registrations_all_time, s.interviewed_all_time, s.placed_all_time) == (10, 5, 1)
    assert s.credits_earned == 1
    # The first report of a status wins: later restatements with other times change nothing.
    with session_scope(engine) as sess:
        registered = select(PartnerReferral.occurred_at).where(PartnerReferral.status == "registered")
        times = set(sess.scalars(registered))
    assert times == {ACCEPTED + timedelta(days=2)}


def test_contract_can_count_another_status_with_its_own_ratio(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 12)
    data = rows(codes) + rows(codes[:11], "interviewed")
    partner = csv_partner(
        write_report(tmp_path / "report.csv", data),
        counted_status="interviewed",
        registrations_per_credit=5,
        credit_value_yen=120_000,
    )

    sync(engine, partner)

    s = summary(engine, partner)
    assert (s.counted_all_time, s.credits_earned, s.progress, s.value_yen) == (11, 2, "1 / 5", 240_000)
    assert s.registrations_all_time == 12


def test_referral_before_the_notice_was_accepted_is_flagged_suspicious(
    engine: Engine, tmp_path: Path
) -> None:
    codes = add_notices(engine, 10)
    never_sent = add_notices(engine, 1, accepted_at=None, state="pending")
    data = rows(codes[1:]) + rows(codes[:1], when=ACCEPTED - timedelta(minutes=5)) + rows(never_sent)
    path = write_report(tmp_path / "report.csv", data)

    stats = sync(engine, csv_partner(path))

    assert stats["new_referrals"] == 11 and stats["new_suspicious"] == 2
    with session_scope(engine) as s:
        flagged = {
            r.ref_code: r.suspicious_reason
            for r in s.scalars(select(PartnerReferral).where(PartnerReferral.suspicious.is_(True)))
        }
    assert set(flagged) == {codes[0], never_sent[0]}
    assert "before its message was accepted" in (flagged[codes[0]] or "")
    assert "never accepted" in (flagged[never_sent[0]] or "")
    # Not counted by default: 9 clean registrations are not yet a credit.
    s = summary(engine, csv_partner(path))
    assert (s.registrations_all_time, s.suspicious, s.balance, s.progress) == (9, 2, 0, "9 / 10")
    # A contract that counts suspicious referrals earns the credit on the next sync.
    sync(engine, csv_partner(path, count_suspicious=True))
    assert summary(engine, csv_partner(path, count_suspicious=True)).balance == 1


def test_redemption_spends_the_oldest_credit_once_per_hire(engine: Engine, tmp_path: Path) -> None:
    partner = csv_partner(write_report(tmp_path / "empty.csv", []))
    rule = ContractRule.from_settings(partner)
    with (
        pytest.raises(NoCreditsError, match=r"balance 0 \(progress to the next credit 0 / 10\)"),
        session_scope(engine) as s,
    ):
        ledger.redeem(s, rule, "greenhouse:app:1", now=NOW)

    codes = add_notices(engine, 20)
    partner = csv_partner(write_report(tmp_path / "report.csv", rows(codes)))
    sync(engine, partner)

    with session_scope(engine) as s:
        first = ledger.redeem(s, rule, "greenhouse:app:1", now=NOW, note="backend engineer")
    with session_scope(engine) as s:
        again = ledger.redeem(s, rule, "greenhouse:app:1", now=NOW + timedelta(hours=1))
    with session_scope(engine) as s:
        second = ledger.redeem(s, rule, "greenhouse:app:2", now=NOW)

    assert (first.created, first.credit_no, first.balance_after, first.value_yen) == (True, 1, 1, 300_000)
    assert (again.created, again.entry_id, again.balance_after) == (False, first.entry_id, 1)
    assert (second.created, second.credit_no, second.balance_after) == (True, 2, 0)
    with pytest.raises(NoCreditsError), session_scope(engine) as s:
        ledger.redeem(s, rule, "greenhouse:app:3", now=NOW)
    with pytest.raises(ledger.LedgerError, match="hire reference is required"), session_scope(engine) as s:
        ledger.redeem(s, rule, "  ", now=NOW)

    s2 = summary(engine, partner)
    assert (s2.credits_earned, s2.credits_redeemed, s2.balance, s2.value_yen) == (2, 2, 0, 0)
    assert entries_sum(engine) == (0, 0)
    # A later sync with no new data neither re-earns nor touches redemptions.
    sync(engine, partner, now=NOW + timedelta(days=3))
    assert summary(engine, partner).balance == 0
    with session_scope(engine) as s:
        hires = s.scalars(
            select(PartnerLedgerEntry.reason)
            .where(PartnerLedgerEntry.kind == "redeemed")
            .order_by(PartnerLedgerEntry.id)
        ).all()
    assert hires == [
        "credit 1 redeemed for hire greenhouse:app:1: backend engineer",
        "credit 2 redeemed for hire greenhouse:app:2",
    ]


def test_expiry_is_fifo_and_skips_redeemed_credits(engine: Engine, tmp_path: Path) -> None:
    early = datetime(2025, 12, 1, tzinfo=UTC)
    codes = add_notices(engine, 30, accepted_at=early)
    data = (
        rows(codes[:10], when=datetime(2026, 1, 10, tzinfo=UTC))
        + rows(codes[10:20], when=datetime(2026, 3, 10, tzinfo=UTC))
        + rows(codes[20:], when=datetime(2026, 6, 10, tzinfo=UTC))
    )
    partner = csv_partner(write_report(tmp_path / "report.csv", data), credit_expiry_months=6)
    rule = ContractRule.from_settings(partner)

    stats = sync(engine, partner, now=datetime(2026, 8, 1, tzinfo=UTC))
    assert (stats["credits_earned"], stats["credits_expired"]) == (3, 1)  # Jan 10 + 6 months < Aug 1
    with session_scope(engine) as s:
        redeemed = ledger.redeem(s, rule, "hire-42", now=datetime(2026, 8, 2, tzinfo=UTC))
    assert redeemed.credit_no == 2  # credit 1 is gone; the oldest remaining goes first

    # An analyst re-running a past day sees what expired by then, and nothing more is written.
    stats = sync(engine, partner, as_of=date(2026, 8, 5), now=datetime(2026, 12, 15, tzinfo=UTC))
    assert stats["credits_expired"] == 0
    stats = sync(engine, partner, now=datetime(2026, 12, 15, tzinfo=UTC))
    assert stats["credits_expired"] == 1  # credit 3 (Jun 10 → Dec 10); credit 2 was redeemed, not expired
    again = sync(engine, partner, now=datetime(2026, 12, 16, tzinfo=UTC))
    assert again["credits_expired"] == 0 and again["credits_earned"] == 0

    with session_scope(engine) as s:
        expired = s.scalars(
            select(PartnerLedgerEntry)
            .where(PartnerLedgerEntry.kind == "expired")
            .order_by(PartnerLedgerEntry.credit_no)
        ).all()
    assert [e.credit_no for e in expired] == [1, 3]
    assert expired[0].effective_at == datetime(2026, 7, 10, tzinfo=UTC)
    assert "valid 6 months" in expired[0].reason
    s2 = summary(engine, partner, as_of=date(2026, 12, 16))
    assert (s2.credits_earned, s2.credits_redeemed, s2.credits_expired, s2.balance) == (3, 1, 2, 0)
    assert entries_sum(engine) == (0, 0)


def test_ledger_rows_are_append_only_and_never_double_consumed(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 10)
    partner = csv_partner(write_report(tmp_path / "report.csv", rows(codes)))
    sync(engine, partner)
    with session_scope(engine) as s:
        ledger.redeem(s, ContractRule.from_settings(partner), "hire-1", now=NOW)
        earned_id = s.scalar(select(PartnerLedgerEntry.id).where(PartnerLedgerEntry.kind == "earned"))

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE partner_ledger SET credits = 5"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM partner_ledger WHERE kind = 'redeemed'"))
    # The same credit cannot be spent twice, nor can a spend point at nothing.
    for value_yen, credit_no, earned, hire in ((-300_000, 1, earned_id, "hire-2"), (0, 9, None, "hire-3")):
        with pytest.raises(IntegrityError), session_scope(engine) as s:
            s.add(PartnerLedgerEntry(
                partner="careerrelay", kind="redeemed", credits=-1, value_yen=value_yen, credit_no=credit_no,
                earned_entry_id=earned, hire_ref=hire, reason="a spend the ledger refuses", effective_at=NOW,
                idempotency_key=f"redeemed:careerrelay:{hire}",
            ))
    assert entries_sum(engine) == (0, 0)


def test_several_partners_keep_separate_ledgers(engine: Engine, tmp_path: Path) -> None:
    a_codes = add_notices(engine, 12, partner="careerrelay")
    b_codes = add_notices(engine, 7, partner="nextstep")
    a = csv_partner(write_report(tmp_path / "a.csv", rows(a_codes)))
    b = csv_partner(
        write_report(tmp_path / "b.csv", rows(b_codes) + rows(a_codes[:2])),
        name="nextstep",
        registrations_per_credit=5,
        credit_value_yen=100_000,
    )

    sync(engine, a)
    stats_b = sync(engine, b)

    assert stats_b["quarantined"] == 2  # careerrelay's codes reported by nextstep
    sa, sb = summary(engine, a), summary(engine, b)
    assert (sa.balance, sa.progress, sa.value_yen) == (1, "2 / 10", 300_000)
    assert (sb.balance, sb.progress, sb.value_yen) == (1, "2 / 5", 100_000)
    with session_scope(engine) as s:
        states = {st.partner: st for st in s.scalars(select(PartnerSyncState))}
    assert set(states) == {"careerrelay", "nextstep"}
    assert states["nextstep"].last_stats["new_referrals"] == 7


def test_a_large_report_is_stored_with_bulk_statements(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 3000)
    partner = csv_partner(write_report(tmp_path / "big.csv", rows(codes) + rows(codes[:1500], "interviewed")))
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        stats = sync(engine, partner)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert stats["new_referrals"] == 4500 and stats["credits_earned"] == 300
    # Per 1000-row chunk: one message lookup, one known-facts lookup, one multi-row insert (paged).
    assert len(statements) < 60, len(statements)
    assert summary(engine, partner).balance == 300


def test_redeeming_an_expired_credit_fails_and_records_the_expiry(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 10)
    partner = csv_partner(write_report(tmp_path / "report.csv", rows(codes)), credit_expiry_months=1)
    sync(engine, partner, now=datetime(2026, 10, 20, tzinfo=UTC))
    assert summary(engine, partner).balance == 1

    with pytest.raises(NoCreditsError, match="balance 0"):
        ledger.redeem_credit(
            engine, ContractRule.from_settings(partner), "hire-7", now=datetime(2026, 11, 4, tzinfo=UTC)
        )

    s = summary(engine, partner)
    assert (s.credits_expired, s.credits_redeemed, s.balance) == (1, 0, 0)


def test_expiry_counts_months_on_the_partners_calendar_not_in_utc(engine: Engine, tmp_path: Path) -> None:
    """Earned at 01:00 on 1 March in Tokyo (still 28 February in UTC): "valid 1 month" ends 1 April, Tokyo."""
    tokyo = ZoneInfo("Asia/Tokyo")
    earned = datetime(2026, 3, 1, 1, 0, tzinfo=tokyo)
    codes = add_notices(engine, 10, accepted_at=earned - timedelta(days=3))
    partner = csv_partner(write_report(tmp_path / "report.csv", rows(codes, when=earned)),
                          credit_expiry_months=1, timezone="Asia/Tokyo")

    first = sync(engine, partner, now=datetime(2026, 3, 29, 2, 0, tzinfo=tokyo))  # a UTC month would be up
    assert (first["credits_earned"], first["credits_expired"]) == (1, 0)
    assert sync(engine, partner, now=datetime(2026, 3, 31, 23, 0, tzinfo=tokyo))["credits_expired"] == 0
    expired = sync(engine, partner, now=datetime(2026, 4, 1, 2, 0, tzinfo=tokyo))
    assert expired["credits_expired"] == 1

    with session_scope(engine) as s:
        entry = s.scalars(select(PartnerLedgerEntry).where(PartnerLedgerEntry.kind == "expired")).one()
    assert entry.effective_at == datetime(2026, 4, 1, 1, 0, tzinfo=tokyo)
    assert "earned 2026-03-01" in entry.reason
