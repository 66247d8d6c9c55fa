"""What a person chose on their own page, stored like consent (junkan/consent/preferences.py): append-only,
the newest save counts, the history stays; the report's counts of visits, savers and timings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.consent.preferences import (
    Preferences,
    latest_preferences,
    record_preferences,
    record_visit,
)
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.db import session_scope
from junkan.db.models_preferences import CandidatePreference
from junkan.reports.build import build_report
from junkan.reports.periods import Period
from tests.integration._outbox_data import add_candidate

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _save(s: Session, cid: int, prefs: Preferences, at: datetime) -> None:
    record_preferences(s.connection(), cid, prefs, at=at, wording_version=PREFERENCE_WORDING_VERSION)


def test_the_newest_save_counts_and_every_earlier_one_stays(engine: Engine) -> None:
    first = Preferences(families=("sales",), other_interest="海外営業も", locations=("東京都",), remote=True,
                        timing_months=6, skills_text="簿記2級", skills=("bookkeeping",))
    second = Preferences(families=("engineering", "data"), never=False, timing_months=12)
    with session_scope(engine) as s:
        a, b, untouched = add_candidate(s), add_candidate(s), add_candidate(s)
        _save(s, a, first, NOW)
        _save(s, a, second, NOW + DAY)
        _save(s, b, Preferences(never=True), NOW)

    with engine.connect() as conn:
        everyone = latest_preferences(conn)
        some = latest_preferences(conn, [a, untouched])
        rows = conn.execute(select(func.count()).select_from(CandidatePreference)
                            .where(CandidatePreference.candidate_id == a)).scalar_one()

    assert set(everyone) == {a, b} and set(some) == {a}  # never saved: absent
    assert everyone[a].preferences == second and everyone[a].recorded_at == NOW + DAY
    assert everyone[a].source == "preference_page"
    assert everyone[a].wording_version == PREFERENCE_WORDING_VERSION
    assert everyone[b].preferences.never and everyone[b].preferences.timing_key == "never"
    assert rows == 2  # the first save is history, not overwritten


def test_text_is_kept_as_typed_and_read_back_unchanged(engine: Engine) -> None:
    typed = Preferences(families=("sales",), other_interest="  法人営業（IT業界）\n海外も可 ",
                        locations=("大阪府", "京都市"), remote=False, timing_months=3,
                        skills_text="TOEIC 850、基本情報技術者",
                        skills=("english", "it_passport"))
    with session_scope(engine) as s:
        cid = add_candidate(s)
        _save(s, cid, typed, NOW)
    with engine.connect() as conn:
        assert latest_preferences(conn, [cid])[cid].preferences == typed


def test_a_timing_outside_the_choices_or_beside_never_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timing must be one of"):
        Preferences(timing_months=9)
    with pytest.raises(ValueError, match="never"):
        Preferences(timing_months=3, never=True)
    # The table refuses it too, whoever writes it.
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        cid = add_candidate(s)
        s.add(CandidatePreference(candidate_id=cid, families=[], other_interest="", locations=[], remote=None,
                                  timing_months=3, never=True, skills_text="", skills=[],
                                  source="preference_page", wording_version="v", recorded_at=NOW))
        s.flush()


def test_counts_of_a_period_visits_savers_and_the_spread_of_their_newest_timing(engine: Engine,
                                                                               settings: Settings) -> None:
    with session_scope(engine) as s:
        a, b, c, d, e = (add_candidate(s) for _ in range(5))
        for cid in (a, a, b, c, d):  # a opened it twice: one person
            record_visit(s.connection(), cid, at=NOW)
        record_visit(s.connection(), e, at=NOW - 40 * DAY)  # before the period
        _save(s, a, Preferences(timing_months=3), NOW)
        _save(s, a, Preferences(timing_months=12), NOW + DAY)  # changed: the newest counts
        _save(s, b, Preferences(never=True), NOW)
        _save(s, c, Preferences(families=("sales",)), NOW)  # no timing chosen
        _save(s, e, Preferences(timing_months=6), NOW - 40 * DAY)  # saved before the period
        _save(s, d, Preferences(timing_months=6), NOW + 40 * DAY)  # after it

    # The report is the one place that counts the page; the period runs ten days either side of NOW.
    kpis = build_report(engine, settings, Period(date(2026, 11, 21), date(2026, 12, 10)), trend_months=0).kpis
    assert (kpis["preference_page_visitors"]["value"], kpis["preference_page_savers"]["value"]) == (4, 3)
    timings = {t: kpis[f"preference_timing_{t}_rate"]["inputs"][f"timing_{t}"]
               for t in ("3m", "6m", "12m", "never", "default")}
    assert timings == {"3m": 0, "6m": 0, "12m": 1, "never": 1, "default": 1}


def test_bulk_reading_many_candidates_answers_for_each(engine: Engine) -> None:
    with session_scope(engine) as s:
        ids = [add_candidate(s) for _ in range(1_200)]
        for n, cid in enumerate(ids[::2]):
            _save(s, cid, Preferences(timing_months=(3, 6, 12)[n % 3]), NOW)
    with engine.connect() as conn:
        found = latest_preferences(conn, ids)  # more ids than one IN list holds
    assert set(found) == set(ids[::2])
    assert [found[cid].preferences.timing_months for cid in ids[:6:2]] == [3, 6, 12]
