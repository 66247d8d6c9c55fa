"""Every KPI of the fixture month, computed by hand, matches exactly on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models_reports import ReportSnapshot
from junkan.reports.build import build_report
from junkan.reports.periods import Period, month
from junkan.reports.registry import PENDING_KPIS, PENDING_REASON
from tests.integration._report_data import OCTOBER_COSTS, load_october


def _settings(settings: Settings, **report: object) -> Settings:
    return settings.model_copy(update={"report": settings.report.model_validate(
        {"costs": [OCTOBER_COSTS], "baseline": {"cost_per_hire_yen": 2_750_000, "reapplication_rate": 0.25},
         "min_group_size": 2, **report})})


@pytest.fixture
def october(engine: Engine, settings: Settings) -> dict:
    load_october(engine)
    report = build_report(engine, _settings(settings), month(2026, 10), trend_months=0)
    return report.kpis


def value(kpis: dict, name: str) -> object:
    return kpis[name]["value"]


def test_funnel_counts_by_applied_and_decided_dates_with_midnight_jst_boundaries(october: dict) -> None:
    # Applied in October: a1 (00:00 Oct 1), a3, a4, the hire, the withdrawal, c1's re-application,
    # the application decided on Nov 1, the one at 23:59 Oct 31 = 8 (a2 at 23:59 Sep 30 is September).
    assert value(october, "applications") == 8
    assert value(october, "hires") == 1
    assert value(october, "withdrawals") == 1
    # Decided in October: a1, a2, a3, a4, Oct 8, Oct 9 = 6 (Sep 30 23:59 and Nov 1 00:00 are outside).
    assert value(october, "rejections") == 6
    assert value(october, "reapplications") == 1


def test_follow_up_rate_counts_only_notices_accepted_within_five_business_days(october: dict) -> None:
    f = october["follow_up_rate"]
    # a1 on time (23:59 of the 5th business day), a2 one minute late, a3 suppressed and the stale one
    # excluded by policy, a4 no address (a miss, shown apart), the Oct 9 one never sent.
    assert f["inputs"] == {"followed_up": 1, "eligible": 4}
    assert f["apart"] == {"excluded_policy": 2, "no_address": 1, "late": 1, "not_sent": 1}
    assert f["value"] == 1 / 4
    depts = {r["dims"]["department"]: r["value"] for r in f["breakdown"] if r["dims"]["job_id"] == "*"}
    assert depts == {"営業部": 1 / 3, "開発部": 0.0}


def test_email_rates_by_message(october: dict) -> None:
    # Sent in October: m1 (delivered, opened, partner link clicked) and m2 (bounced; its unsubscribe
    # click is not a click). The suppressed and cancelled notices were never handed to the provider.
    assert october["email_delivered_rate"]["inputs"] == {"delivered": 1, "sent": 2}
    for name in ("email_delivered_rate", "email_bounced_rate", "email_opened_rate", "email_clicked_rate"):
        assert value(october, name) == 0.5, name
    (row,) = october["email_opened_rate"]["breakdown"]
    assert row["dims"] == {"kind": "rejection", "template_name": "rejection", "template_version": "v1"}


def test_partner_clicks_registrations_and_credits(october: dict) -> None:
    assert value(october, "partner_link_clicks") == 2
    assert value(october, "partner_registrations") == 1
    assert october["partner_registrations"]["apart"] == {"suspicious": 1}
    assert value(october, "partner_registration_rate") == 1 / 2
    assert value(october, "credits_earned") == 1  # the September credit is outside the period
    assert value(october, "credits_redeemed") == 1
    assert value(october, "credit_value") == 300_000
    assert [r["dims"]["partner"] for r in october["credits_earned"]["breakdown"]] == ["careerrelay"]


def test_reapplication_rate_of_candidates_rejected_before_the_period(october: dict) -> None:
    # Rejected before Oct 1: c1 (August) and c7 (23:59 Sep 30); c1 applied again in October.
    assert october["reapplication_rate"]["inputs"] == {"reapplied": 1, "rejected_candidates": 2}
    assert value(october, "reapplication_rate") == 0.5
    assert value(october, "reapplication_rate_vs_baseline") == 2.0  # 0.5 / 0.25


def test_cost_per_hire_iso_30407_forms_and_ratio(october: dict) -> None:
    assert value(october, "cost_per_hire") == 2_200_000  # (400k + 1M + 600k + 200k) / 1 hire
    assert value(october, "cost_per_hire_comparable") == 2_000_000  # without other internal costs
    assert value(october, "hire_cost_ratio") == 2_200_000 / 5_000_000
    assert value(october, "cost_per_hire_change") == -0.2  # against the configured ¥2,750,000
    assert october["cost_per_hire"]["inputs"]["advertising_yen"] == 400_000
    assert value(october, "savings_partner_credits") == 300_000


def test_figures_without_data_say_why_instead_of_inventing_a_number(october: dict) -> None:
    for name in PENDING_KPIS:
        assert october[name]["value"] is None
        assert october[name]["missing"] == PENDING_REASON
    assert value(october, "roi") is None
    assert "pool data not available yet" in october["roi"]["missing"]


def test_a_group_below_the_minimum_size_is_not_enough_data(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    kpis = build_report(engine, _settings(settings, min_group_size=30), month(2026, 10), trend_months=0).kpis
    assert value(kpis, "reapplication_rate_vs_baseline") is None
    assert kpis["reapplication_rate_vs_baseline"]["missing"].startswith("not enough data")


def test_an_empty_period_has_no_rates_and_names_the_missing_costs(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    kpis = build_report(engine, _settings(settings), month(2027, 3), trend_months=0).kpis
    assert value(kpis, "applications") == 0
    for name in ("follow_up_rate", "email_delivered_rate", "partner_registration_rate", "cost_per_hire"):
        assert value(kpis, name) is None, name
        assert kpis[name]["missing"], name
    assert "no cost row for 2027-03" in kpis["cost_per_hire"]["missing"]


def test_costs_are_monthly_so_a_partial_month_has_none(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    from datetime import date

    kpis = build_report(engine, _settings(settings), Period(date(2026, 10, 1), date(2026, 10, 15)),
                        trend_months=0).kpis
    assert value(kpis, "cost_per_hire") is None
    assert "whole months" in kpis["cost_per_hire"]["missing"]


def test_snapshot_is_kept_until_recompute(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    s = _settings(settings)
    first = build_report(engine, s, month(2026, 10), trend_months=0)
    assert first.computed_now
    changed = s.model_copy(update={"report": s.report.model_copy(update={"costs": []})})
    again = build_report(engine, changed, month(2026, 10), trend_months=0)
    assert not again.computed_now
    assert value(again.kpis, "cost_per_hire") == 2_200_000  # the stored figure, not a recomputation
    assert again.inputs["costs"]["advertising_yen"] == 400_000  # … and the inputs that produced it
    redone = build_report(engine, changed, month(2026, 10), trend_months=0, recompute=True)
    assert redone.computed_now and value(redone.kpis, "cost_per_hire") is None
    with session_scope(engine) as session:
        n = session.scalar(select(func.count()).select_from(ReportSnapshot)
                           .where(ReportSnapshot.period_start == month(2026, 10).start))
    assert n == 1


def test_trend_reads_one_snapshot_per_month(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    report = build_report(engine, _settings(settings), month(2026, 10), trend_months=3)
    assert [t["month"] for t in report.trend] == ["2026-08", "2026-09", "2026-10"]
    assert report.trend[-1]["follow_up_rate"] == 1 / 4
    assert report.trend[-1]["credits_earned"] == 1 and report.trend[-2]["credits_earned"] == 1
