"""The report's section on the candidate's own page: visits, saves, the spread of the chosen timings and
the re-application rate with and without a stated interest, exactly, on SQLite and PostgreSQL; every word
of the section in Japanese in the Japanese report, with a definition beside each figure."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from junkan.config import Settings
from junkan.reports.build import build_report
from junkan.reports.periods import month
from junkan.reports.sections import sections
from tests.integration._preference_report_data import load_october_preferences
from tests.integration._report_data import load_october, october_settings

TIMINGS = ("3m", "6m", "12m", "never", "default")


@pytest.fixture
def october(engine: Engine, settings: Settings) -> dict:
    load_october(engine)
    load_october_preferences(engine)
    return build_report(engine, october_settings(settings), month(2026, 10), trend_months=0).kpis


def test_visits_saves_and_the_spread_of_timings(october: dict, engine: Engine) -> None:
    assert october["preference_page_visitors"]["value"] == 3
    assert october["preference_page_savers"]["value"] == 4
    spread = {t: october[f"preference_timing_{t}_rate"]["inputs"] for t in TIMINGS}
    assert spread == {"3m": {"timing_3m": 1, "savers": 4}, "6m": {"timing_6m": 0, "savers": 4},
                      "12m": {"timing_12m": 1, "savers": 4}, "never": {"timing_never": 1, "savers": 4},
                      "default": {"timing_default": 1, "savers": 4}}
    assert [october[f"preference_timing_{t}_rate"]["value"] for t in TIMINGS] == [0.25, 0.0, 0.25, 0.25, 0.25]


def test_reapplication_with_and_without_a_stated_interest(october: dict) -> None:
    stated, unstated = (october["stated_interest_reapplication_rate"],
                        october["no_stated_interest_reapplication_rate"])
    assert stated["inputs"] == {"reapplied_stated": 1, "stated_people": 1} and stated["value"] == 1.0
    assert unstated["inputs"] == {"reapplied_unstated": 0, "unstated_people": 1} and unstated["value"] == 0.0
    # Together they are the re-application rate's people.
    assert october["reapplication_rate"]["inputs"] == {"reapplied": 1, "rejected_candidates": 2}


def test_a_month_without_the_page_says_why_in_japanese(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0)
    rows = {r["key"]: r for r in sections(report.kpis, "ja")["preference_page"]["rows"]}
    assert rows["preference_page_visitors"]["value"] == "0"
    assert rows["preference_timing_3m_rate"]["note"] == "期間内に設定を保存した人がいません"
    assert rows["stated_interest_reapplication_rate"]["note"] == \
        "期間開始前に不採用となった人のうち、この群に当たる人がいません"


def test_the_section_is_japanese_with_a_definition_for_every_figure(october: dict) -> None:
    section = sections(october, "ja")["preference_page"]
    assert section["title"] == "今後のご案内の設定（ご本人のページ）"
    assert len(section["rows"]) == 9
    for row in section["rows"]:
        shown = " ".join(row[k] for k in ("kpi", "inputs", "note", "definition"))
        assert not re.search(r"[A-Za-z]", shown), shown
        assert row["definition"].startswith(("分子：", "数えるもの：")), row["key"]
    shown = {r["key"]: r["value"] for r in section["rows"]}
    assert [shown[k] for k in ("stated_interest_reapplication_rate", "no_stated_interest_reapplication_rate",
                               "preference_timing_12m_rate", "preference_page_savers")] == [
        "100.0%", "0.0%", "25.0%", "4"]
    english = {r["key"]: r for r in sections(october, "en")["preference_page"]["rows"]}
    assert english["stated_interest_reapplication_rate"]["kpi"] == "Re-application rate, interest stated"
    assert english["preference_timing_12m_rate"]["inputs"] == "12 months 1, saved 4"
