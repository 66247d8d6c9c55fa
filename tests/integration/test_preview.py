"""`junkan preview`: what the sending flows would do on a day, from the same selection as the real runs,
with a sample rendered for a placeholder candidate, and not one row changed (both databases)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from junkan.cli import app
from junkan.clock import DateRefused, RunClock
from junkan.config import ConsentSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Base, Candidate, Message
from junkan.db.types import utcnow
from junkan.mail.timing import add_business_days
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.preview import default_preview_date, preview_day
from junkan.preview.model import Group, Preview, SectionPreview
from tests.integration import _outbox_data as notices
from tests.integration import _pool_data as pool
from tests.integration.test_consent_renewal import person as consent_person

JST = ZoneInfo("Asia/Tokyo")
#: Wednesday: notices decided on Monday 2026-11-16 fall due at 09:00.
DUE_DAY = date(2026, 11, 18)
REAL_PEOPLE = ("山田", "鈴木", "佐藤", "@example.com")


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables}


def section(preview: Preview, name: str) -> SectionPreview:
    return next(s for s in preview.sections if s.name == name)


def seed_notices(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        # Two already enqueued (the send run's backlog) ...
        notices.add_application(s, name="鈴木 一郎", partner_consent=True)
        notices.add_application(s, name="佐藤 花子")
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, notices.SEND_NOW)
    with session_scope(engine) as s:
        # ... and four that enqueue would add that day.
        notices.add_application(s)
        notices.add_application(s, category="final_interview")
        notices.add_application(s, locale="en")
        notices.add_application(s, email="blocked@example.com")
        notices.suppress(s, "blocked@example.com")
        notices.add_application(s, status="hired")


def test_due_notices_by_template_and_locale_with_the_partner_block_and_nothing_changed(
    engine: Engine, settings: Settings
) -> None:
    seed_notices(engine, settings)
    before = row_counts(engine)
    with session_scope(engine) as s:
        states = sorted((m.public_id, m.state, m.attempts) for m in s.scalars(select(Message)))

    preview = preview_day(engine, settings, DUE_DAY)

    assert row_counts(engine) == before
    with session_scope(engine) as s:
        assert sorted((m.public_id, m.state, m.attempts) for m in s.scalars(select(Message))) == states
    due = section(preview, "notices")
    assert due.total == 5
    assert due.groups == [Group("ja/rejection", "ja", 3, 1), Group("en/rejection", "en", 1, 0),
                          Group("ja/rejection.final_interview", "ja", 1, 0)]
    assert due.counts == {"suppressed": 1}
    sample = due.sample
    assert sample is not None and sample.person == "見本 太郎"
    # The notice with the partner block is the sample: every part of a notice shows.
    assert sample.text.startswith("見本 太郎 様") and "キャリアリレー" in sample.text
    assert "選考に関するご連絡は停止されません" in sample.text
    assert sample.subject.startswith("【株式会社サンプル】")
    assert not any(real in sample.text or real in sample.subject for real in REAL_PEOPLE)


def test_the_day_before_the_notices_fall_due_shows_none(engine: Engine, settings: Settings) -> None:
    seed_notices(engine, settings)
    due = section(preview_day(engine, settings, DUE_DAY - timedelta(days=1)), "notices")
    assert (due.total, due.groups, due.sample) == (0, [], None)


def test_a_weekend_sends_nothing_and_says_so(engine: Engine, settings: Settings) -> None:
    seed_notices(engine, settings)
    saturday = section(preview_day(engine, settings, date(2026, 11, 21)), "notices")
    assert saturday.total == 0 and sum(g.count for g in saturday.groups) == 5
    assert saturday.notes == [
        "2026-11-21 is not a business day: nothing is sent; these wait for the next one"]


def test_a_day_still_to_come_can_be_previewed(engine: Engine, settings: Settings) -> None:
    decided = utcnow() - timedelta(minutes=5)
    with session_scope(engine) as s:
        notices.add_application(s, decided_at=decided)
    today = decided.astimezone(JST).date()
    due_day = add_business_days(today, settings.notice.delay_business_days)
    # A real run of that day is refused (the day has not begun), so it could not see the notice ...
    with pytest.raises(DateRefused, match="in the future"):
        RunClock.start(JST, due_day)
    # ... the preview is not.
    assert section(preview_day(engine, settings, due_day), "notices").total == 1
    assert section(preview_day(engine, settings, today), "notices").total == 0


def default_day(settings: Settings, moment: datetime) -> date:
    return default_preview_date(settings, RunClock.fixed(moment))


def test_the_default_day_is_the_next_window_not_yet_closed_today_included(settings: Settings) -> None:
    # Before the window opens and while it is open, today's mails are still to go out.
    assert default_day(settings, datetime(2026, 11, 20, 6, 40, tzinfo=JST)) == date(2026, 11, 20)
    assert default_day(settings, datetime(2026, 11, 20, 17, 59, tzinfo=JST)) == date(2026, 11, 20)
    # Once it has closed, the next business day (Monday 2026-11-23 is 勤労感謝の日).
    assert default_day(settings, datetime(2026, 11, 20, 18, 0, tzinfo=JST)) == date(2026, 11, 24)
    assert default_day(settings, datetime(2026, 11, 21, 10, 0, tzinfo=JST)) == date(2026, 11, 24)
    # 12-30 is the last business day of the year; after its window, 年末年始 follows.
    assert default_day(settings, datetime(2026, 12, 30, 9, 0, tzinfo=JST)) == date(2026, 12, 30)
    assert default_day(settings, datetime(2026, 12, 30, 19, 0, tzinfo=JST)) == date(2027, 1, 4)


def seed_pool(engine: Engine) -> None:
    with session_scope(engine) as s:
        for k, title in enumerate(["バックエンドエンジニア", "Goエンジニア"]):
            pool.add_job(s, title, required=["Go", "SQL"], opened_at=pool.NOW - timedelta(days=k + 1))
        pool.add_member(s, skills=["Go", "SQL"], name="佐藤 次郎")
        # No re-contact consent: never matched (junkan.pool.exclusions), so no mail either.
        pool.add_member(s, skills=["Go", "SQL"], recontact=False)
        pool.add_member(s, skills=["Go", "SQL"], locale="en")


def test_recontact_in_auto_mode_counts_the_mails_and_renders_one(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    seed_pool(engine)
    cfg = pool.pool_settings(settings, mode="auto", holdout_share=0.0, shortlist_dir=tmp_path / "lists")
    before = row_counts(engine)
    preview = preview_day(engine, cfg, pool.AS_OF)
    assert row_counts(engine) == before
    recontact = section(preview, "recontact")
    assert recontact.total == 2
    assert sorted(recontact.groups, key=lambda g: g.locale) == [Group("en/recontact", "en", 1),
                                                                Group("ja/recontact", "ja", 1)]
    assert recontact.counts["new_openings"] == 2 and recontact.counts["matched_people"] == 2
    sample = recontact.sample
    assert sample is not None and "Goエンジニア" in sample.text and "バックエンドエンジニア" in sample.text
    assert sample.person in sample.text
    assert not any(real in sample.text for real in REAL_PEOPLE)
    assert not (tmp_path / "lists").exists()  # no shortlist CSV written either


def test_recontact_in_shortlist_mode_counts_the_shortlists(engine: Engine, settings: Settings) -> None:
    seed_pool(engine)
    before = row_counts(engine)
    recontact = section(preview_day(engine, pool.pool_settings(settings, mode="shortlist"), pool.AS_OF),
                        "recontact")
    assert row_counts(engine) == before
    assert recontact.total == 2 and recontact.groups == [] and recontact.sample is None
    assert recontact.counts["matched_people"] == 2
    assert recontact.notes[0].startswith("shortlist mode: no mail to candidates; 2 shortlist(s)")


def test_renewals_are_off_by_default(engine: Engine, settings: Settings) -> None:
    renewals = section(preview_day(engine, settings, DUE_DAY), "renewals")
    assert renewals.total == 0
    assert renewals.notes == ["renewals: off (JUNKAN_CONSENT__RENEWAL_ENABLED is false)"]


def test_renewals_due_that_day_are_counted_with_a_placeholder_sample(
    engine: Engine, settings: Settings
) -> None:
    enabled = settings.model_copy(update={"consent": ConsentSettings(renewal_enabled=True)})
    with session_scope(engine) as s:
        for days_ago in (360, 300):  # lapses within the 7 days before it, and two months later
            person = consent_person(s, granted_days_ago=days_ago)
            s.get(Candidate, person).display_name = "山田 花子"  # type: ignore[union-attr]
    before = row_counts(engine)

    renewals = section(preview_day(engine, enabled, DUE_DAY), "renewals")

    assert row_counts(engine) == before
    assert renewals.total == 1 and renewals.counts["expiring"] == 1
    assert renewals.sample is not None and renewals.sample.person == "見本 太郎"
    assert "見本 太郎" in renewals.sample.text and "山田" not in renewals.sample.text


def test_the_command_prints_counts_and_the_placeholder_sample_only(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_notices(engine, settings)
    before = row_counts(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(app, ["preview", "--date", DUE_DAY.isoformat()])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Preview of Wed 2026-11-18 (business day; sending window 09:00–18:00 Asia/Tokyo)")
    assert "Rejection and withdrawal notices (send-rejections): 5" in out
    assert "ja/rejection.final_interview" in out and "renewals: off" in out
    assert "placeholder candidate 見本 太郎" in out and "| 見本 太郎 様" in out
    assert not any(real in out for real in REAL_PEOPLE)
    assert row_counts(engine) == before

    assert "would be refused" not in out  # the file backend delivers nothing

    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "smtp")
    live = CliRunner().invoke(app, ["preview", "--date", DUE_DAY.isoformat()])
    assert live.exit_code == 0, live.output
    assert "The live send through smtp would be refused:\n  JUNKAN_SENDER__COMPANY_NAME is still the " \
           "shipped sample" in live.output

    bad = CliRunner().invoke(app, ["preview", "--date", "2026-13-01"])
    assert bad.exit_code == 2 and "not a date" in bad.output
