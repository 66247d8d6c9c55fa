"""Periods, the KPI file registry and the monthly-cost CSV, without a database."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from junkan.config import Settings
from junkan.reports.calendar import sla_rows
from junkan.reports.costs import CostFileError, cost_template, load_costs_csv, period_costs
from junkan.reports.labels import missing_text
from junkan.reports.lift import log_rr_interval
from junkan.reports.periods import Period, month, parse_period, previous_month, quarter
from junkan.reports.registry import PENDING_KPIS, RegistryError, kpi_names, load_queries, parse_query


def test_month_boundaries_are_midnight_in_tokyo() -> None:
    lo, hi = month(2026, 10).bounds("Asia/Tokyo")
    assert lo == datetime(2026, 9, 30, 15, 0, tzinfo=UTC)
    assert hi == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)


def test_period_shapes_and_labels() -> None:
    assert parse_period("2026-Q4") == quarter(2026, 4) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert quarter(2026, 4).label == "2026-Q4"
    assert parse_period("2026-02").end == date(2026, 2, 28)
    assert previous_month(date(2026, 1, 1)) == month(2025, 12)
    assert month(2026, 3).previous() == month(2026, 2)
    assert Period(date(2026, 10, 1), date(2026, 10, 10)).previous() == Period(date(2026, 9, 21),
                                                                              date(2026, 9, 30))
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 10, 2), date(2026, 10, 1))


def test_sla_deadline_skips_weekends_and_holidays() -> None:
    rows = sla_rows(Period(date(2026, 10, 5), date(2026, 10, 5)), Settings(_env_file=None))  # type: ignore[call-arg]
    # Mon Oct 5 + 5 business days: Oct 12 (スポーツの日) is skipped, so the 5th is Tue Oct 13.
    assert rows[0]["deadline"].astimezone(UTC) == datetime(2026, 10, 13, 15, 0, tzinfo=UTC)


def test_every_kpi_file_parses_and_names_are_unique() -> None:
    names = kpi_names()
    assert len(names) == len(set(names))
    for key in ("applications", "hires", "rejections", "withdrawals", "reapplications", "follow_up_rate",
                "partner_registration_rate", "credits_earned", "reapplication_rate"):
        assert key in names
    assert set(PENDING_KPIS) <= set(names)
    # Every query is bound to the period, except the pool's size: a stock with no date (docs/kpis.md).
    assert [q.name for q in load_queries() if ":end" not in q.sql] == ["pool_members"]


def test_a_malformed_kpi_file_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "broken.sql"
    bad.write_text("-- group: funnel\n-- kpi: applications equals n\nSELECT 1\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"broken\.sql: cannot read"):
        parse_query(bad)



def test_a_with_header_puts_the_shared_definition_before_the_files_own(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "people.sql").write_text("-- who counts\npeople AS (SELECT 1 AS n)\n",
                                                   encoding="utf-8")
    head = "-- group: funnel\n-- kpi: hires = n\n-- with: people\n"
    own = tmp_path / "own.sql"
    own.write_text(head + "WITH twice AS (SELECT n FROM people)\nSELECT n FROM twice\n", encoding="utf-8")
    bare = tmp_path / "bare.sql"
    bare.write_text(head + "SELECT n FROM people\n", encoding="utf-8")
    assert parse_query(own).sql == head + ("WITH people AS (SELECT 1 AS n),\n"
                                           "twice AS (SELECT n FROM people)\nSELECT n FROM twice\n")
    assert parse_query(bare).sql == head + "WITH people AS (SELECT 1 AS n)\nSELECT n FROM people\n"
    typo = tmp_path / "typo.sql"
    typo.write_text("-- group: funnel\n-- kpi: hires = n\n-- with: peple\nSELECT 1\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"typo\.sql: '-- with: peple' names no file parts/peple\.sql"):
        parse_query(typo)

def test_cost_csv_rows_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "costs.csv"
    good.write_text("\ufeffmonth,advertising_yen,agency_fees_yen,recruiter_time_yen\n2026-10,1,2,3\n",
                    encoding="utf-8")
    (row,) = load_costs_csv(good)
    totals, absent = period_costs(month(2026, 10), {row.month: row})
    assert totals["advertising_yen"] == 1 and totals["other_external_yen"] == 0
    assert totals["running_cost_yen"] is None and absent == []
    bad = tmp_path / "bad.csv"
    bad.write_text("month,advertising_yen\n2026-10,lots\n", encoding="utf-8")
    with pytest.raises(CostFileError, match=r"bad\.csv: row 2, column advertising_yen"):
        load_costs_csv(bad)
    typo = tmp_path / "typo.csv"
    typo.write_text("month,advertisng_yen\n", encoding="utf-8")
    with pytest.raises(CostFileError, match="unknown column"):
        load_costs_csv(typo)


def test_missing_input_reasons_are_plain_words_in_both_languages() -> None:
    reason = "missing input: running_cost_yen, baseline cost per hire (no cost row for 2027-03)"
    assert missing_text(reason, "ja") == ("未設定：Junkan の運用費、導入前の採用単価"
                                          "（2027-03 のコストが未入力）")
    # The English report names the input in words too, never the configuration key.
    assert missing_text(reason, "en") == ("missing input: Junkan's running cost, baseline cost per hire "
                                          "(no cost row for 2027-03)")
    assert missing_text("no hires in the period", "ja") == "期間内の採用がありません"
    lift = "not enough data (6 contacted, 4 held out, minimum 30 each; 50 more people needed)"
    assert missing_text(lift, "ja") == ("データ不足（送った群 6 人、対照群 4 人。"
                                        "各群最低 30 人、あと 50 人必要）")


def test_a_cost_file_with_japanese_headers_is_read(tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(cost_template(["2026-10"]).replace("2026-10,,,,,,,", "2026-10,400000,,,600000,,50000,"),
                    encoding="utf-8")
    (row,) = load_costs_csv(path)
    assert row.month == "2026-10" and row.advertising_yen == 400_000 and row.running_cost_yen == 50_000
    assert row.agency_fees_yen is None


def test_lift_interval_is_the_wald_interval_of_the_log_risk_ratio() -> None:
    rr, low, high = log_rr_interval(20, 100, 10, 100)
    se = math.sqrt(1 / 20 - 1 / 100 + 1 / 10 - 1 / 100)
    assert rr == 2.0
    assert low == pytest.approx(2 * math.exp(-1.959964 * se))
    assert high == pytest.approx(2 * math.exp(1.959964 * se))
    assert low == pytest.approx(0.9866, abs=1e-4)  # crosses 1: the lift is not yet established
