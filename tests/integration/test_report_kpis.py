"""Every KPI of the fixture month, computed by hand, matches exactly on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import Engine, delete, func, select, update

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Job, Message
from junkan.db.models_engagement import EmailEvent
from junkan.db.models_partner import PartnerReferral
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.db.models_reports import ReportSnapshot
from junkan.reports.build import build_report
from junkan.reports.charts import loop_stages, shortlist_note
from junkan.reports.labels import missing_text
from junkan.reports.periods import Period, month
from junkan.reports.registry import PENDING_KPIS, PENDING_REASON
from tests.integration._report_data import (
    OCTOBER_COSTS,
    jst,
    load_october,
    load_october_pool,
    october_settings,
)


@pytest.fixture
def october(engine: Engine, settings: Settings) -> dict:
    load_october(engine)
    load_october_pool(engine)
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0)
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
    assert f["apart"] == {"before_go_live": 0, "excluded_policy": 2, "no_address": 1, "late": 1,
                          "not_sent": 1}
    assert f["value"] == 1 / 4
    depts = {r["dims"]["department"]: r["value"] for r in f["breakdown"] if r["dims"]["job_id"] == "*"}
    assert depts == {"営業部": 1 / 3, "開発部": 0.0}


def test_email_rates_by_message(october: dict) -> None:
    # Notices sent in October: m1 (delivered, opened, partner link clicked) and m2 (bounced; its
    # unsubscribe click is not a click). The suppressed and cancelled notices were never handed to the
    # provider. Re-contact mails: six, two clicked, none opened or bounced; the provider reported on one of
    # them (p1's click event). Delivery is of the mails the provider reported on: m1, m2 and p1's.
    assert october["email_delivered_rate"]["inputs"] == {"delivered": 2, "reported": 3}
    rows = {r["dims"]["kind"]: r for r in october["email_opened_rate"]["breakdown"]}
    assert rows["rejection"]["dims"] == {"kind": "rejection", "template_name": "rejection",
                                         "template_version": "v1"}
    for name in ("email_delivered_rate", "email_bounced_rate", "email_opened_rate", "email_clicked_rate"):
        (notice,) = [r for r in october[name]["breakdown"] if r["dims"]["kind"] == "rejection"]
        assert notice["value"] == 0.5, name
    recontact = {n: [r["value"] for r in october[n]["breakdown"] if r["dims"]["kind"] == "recontact"]
                 for n in ("email_delivered_rate", "email_opened_rate", "email_clicked_rate")}
    assert recontact == {"email_delivered_rate": [1.0], "email_opened_rate": [0.0],
                         "email_clicked_rate": [2 / 6]}


def test_partner_clicks_registrations_and_credits(october: dict) -> None:
    # m1's person clicked its partner link twice: one click; the mail scanner's three fetches: none.
    assert value(october, "partner_link_clicks") == 1
    assert value(october, "partner_registrations") == 1
    # m1's registration followed its link click; the suspicious one is counted in neither path.
    assert october["partner_registrations"]["apart"] == {"via_click": 1, "via_code": 0, "suspicious": 1}
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


def test_every_kpi_of_the_issue_has_a_definition(october: dict) -> None:
    assert PENDING_KPIS == {}
    assert not [n for n, f in october.items() if f["missing"] == PENDING_REASON]


def test_pool_size_eligibility_and_consents_expiring_after_the_period(october: dict) -> None:
    assert value(october, "pool_size") == 9
    assert october["pool_eligibility"]["inputs"] == {"silver": 4, "members": 9}
    assert october["pool_eligibility"]["apart"] == {"standard": 5}
    # [Nov 1 00:00, Dec 1 00:00 JST): p0 (first instant) and p2 (Nov 30 23:59); not p1 (Dec 1 00:00)
    # nor p3 (already ended on Oct 31).
    assert value(october, "pool_consents_expiring_30d") == 2


def test_recontacts_sent_and_their_click_rate(october: dict) -> None:
    # Six mailed; c1 clicked a job link, p1 a provider click event; p2's unsubscribe click is no click.
    assert october["recontact_click_rate"]["inputs"] == {"clicked": 2, "sent": 6}
    assert value(october, "recontacts_sent") == 6
    assert value(october, "recontact_click_rate") == 2 / 6


def test_reapplications_through_recontact_and_hires_from_the_pool(october: dict) -> None:
    # c1 (Oct 15, the matched job) and c5 (Oct 3) came back; p0 at Nov 1 00:00 JST is November; the
    # held-out c3 (Oct 31 23:59) is shown apart.
    assert value(october, "reapplications_via_recontact") == 2
    assert october["reapplications_via_recontact"]["apart"] == {"same_job": 1, "holdout": 1}
    assert value(october, "hires_from_pool") == 1  # c5, hired Oct 20
    assert october["hires_from_pool"]["apart"] == {"holdout_hired": 0}


def test_recontact_lift_over_the_holdout_with_a_log_risk_ratio_interval(october: dict) -> None:
    lift = october["recontact_lift"]
    # Mailed 3 of 6 re-applied (c1, c5, p0 — p0 after the period still counts for the October run);
    # held out 1 of 4 (c3). Lift = (3/6) / (1/4) = 2; se(log RR) = sqrt(1/3 − 1/6 + 1/1 − 1/4).
    assert lift["inputs"]["contacted_people"] == 6 and lift["inputs"]["contacted_reapplied"] == 3
    assert lift["inputs"]["holdout_people"] == 4 and lift["inputs"]["holdout_reapplied"] == 1
    assert lift["value"] == pytest.approx(2.0)
    se = math.sqrt(1 / 3 - 1 / 6 + 1 - 1 / 4)
    assert lift["inputs"]["ci95_low"] == pytest.approx(2 * math.exp(-1.959964 * se), rel=1e-6)
    assert lift["inputs"]["ci95_high"] == pytest.approx(2 * math.exp(1.959964 * se), rel=1e-6)
    assert lift["inputs"]["ci95_low"] == pytest.approx(0.3062, abs=1e-4)


def test_roi_from_pool_hires_and_partner_credits(october: dict) -> None:
    # One pool hire × the baseline cost per hire ¥2,750,000 saved; ¥300,000 of credits redeemed;
    # running cost ¥50,000: (2,750,000 + 300,000 − 50,000) / 50,000 = 60.
    assert value(october, "savings_pool_hires") == 2_750_000
    assert october["savings_pool_hires"]["inputs"]["hires_from_pool"] == 1
    assert value(october, "roi") == 60.0
    assert october["roi"]["inputs"] == {"savings_pool_hires": 2_750_000, "credit_value": 300_000,
                                        "running_cost_yen": 50_000}


def test_roi_without_a_running_cost_or_baseline_names_the_missing_inputs(engine: Engine,
                                                                        settings: Settings) -> None:
    load_october(engine)
    load_october_pool(engine)
    costs = {k: v for k, v in OCTOBER_COSTS.items() if k != "running_cost_yen"}
    kpis = build_report(engine, october_settings(settings, costs=[costs], baseline={}), month(2026, 10),
                        trend_months=0).kpis
    assert value(kpis, "roi") is None
    # One flat list of what is missing, not reasons nested inside reasons.
    assert kpis["roi"]["missing"] == "missing input: running_cost_yen, baseline cost per hire"
    assert value(kpis, "savings_pool_hires") is None
    assert "baseline cost per hire" in kpis["savings_pool_hires"]["missing"]


def test_a_group_below_the_minimum_size_is_not_enough_data(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    load_october_pool(engine)
    configured = october_settings(settings, min_group_size=5)
    kpis = build_report(engine, configured, month(2026, 10), trend_months=0).kpis
    assert value(kpis, "reapplication_rate_vs_baseline") is None
    assert kpis["reapplication_rate_vs_baseline"]["missing"].startswith("not enough data")
    # 6 mailed but only 4 held out: below 5 in one group is enough to withhold the lift.
    assert value(kpis, "recontact_lift") is None
    assert kpis["recontact_lift"]["missing"] == ("not enough data (6 contacted, 4 held out, minimum 5 each; "
                                                 "1 more person needed)")


def test_an_empty_period_has_no_rates_and_names_the_missing_costs(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    kpis = build_report(engine, october_settings(settings), month(2027, 3), trend_months=0,
                        as_of=date(2027, 4, 1)).kpis
    assert value(kpis, "applications") == 0
    for name in ("follow_up_rate", "email_delivered_rate", "partner_registration_rate", "cost_per_hire"):
        assert value(kpis, name) is None, name
        assert kpis[name]["missing"], name
    assert "no cost row for 2027-03" in kpis["cost_per_hire"]["missing"]


def test_costs_are_monthly_so_a_partial_month_has_none(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    kpis = build_report(engine, october_settings(settings), Period(date(2026, 10, 1), date(2026, 10, 15)),
                        trend_months=0).kpis
    assert value(kpis, "cost_per_hire") is None
    assert "whole months" in kpis["cost_per_hire"]["missing"]


def test_snapshot_is_kept_until_recompute(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    s = october_settings(settings)
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
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=3)
    assert [t["month"] for t in report.trend] == ["2026-08", "2026-09", "2026-10"]
    assert report.trend[-1]["follow_up_rate"] == 1 / 4
    assert report.trend[-1]["credits_earned"] == 1 and report.trend[-2]["credits_earned"] == 1


def test_rejections_past_their_deadline_at_go_live_are_history_apart_from_the_follow_up_rate(
        engine: Engine, settings: Settings) -> None:
    load_october(engine)
    configured = october_settings(settings, go_live="2026-10-14")
    report = build_report(engine, configured, month(2026, 10), trend_months=0)
    f = report.kpis["follow_up_rate"]
    # a1 (on time) and a2 (late), decided Oct 5, had their deadline at the end of Oct 13: history now.
    # a3 (deadline Oct 14 end) and the stale one are excluded by policy; a4 (no address) and the Oct 9
    # one (never sent) are Junkan's misses.
    assert f["inputs"] == {"followed_up": 0, "eligible": 2}
    assert f["apart"] == {"before_go_live": 2, "excluded_policy": 2, "no_address": 1, "late": 0,
                          "not_sent": 1}
    assert report.go_live_source == "setting"
    assert report.go_live is not None and report.go_live.isoformat() == "2026-10-13T15:00:00+00:00"


def test_go_live_defaults_to_the_first_notice_sent(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0)
    # m1, accepted Oct 13 23:59 JST, is the first notice; a1's and a2's deadlines (end of Oct 13) had
    # not passed then: nothing is history.
    assert report.go_live_source == "first_notice"
    assert report.go_live is not None and report.go_live.isoformat() == "2026-10-13T14:59:00+00:00"
    assert report.kpis["follow_up_rate"]["apart"]["before_go_live"] == 0


def test_before_any_notice_every_rejection_is_history(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = Job(source="csv", external_id="J9", title="営業", department="営業部")
        cand = Candidate(email_key="h@example.com")
        s.add_all([job, cand])
        s.flush()
        s.add(Application(source="csv", external_id="H1", candidate_id=cand.id, job_id=job.id,
                          status="rejected", applied_at=jst(2026, 10, 1), decided_at=jst(2026, 10, 5),
                          content_hash="x"))
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0)
    f = report.kpis["follow_up_rate"]
    assert f["value"] is None and "has not sent a rejection notice yet" in f["missing"]
    assert f["apart"]["before_go_live"] == 1
    assert report.go_live is None and "go_live" in report.settings_missing


def test_registrations_after_a_click_and_with_a_typed_code_are_both_counted(engine: Engine,
                                                                            settings: Settings) -> None:
    load_october(engine)
    with session_scope(engine) as s:
        # m2's registration, no longer suspicious: m2 had no partner-link click, so the code was typed.
        s.execute(update(PartnerReferral).values(suspicious=False))
    kpis = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0).kpis
    assert value(kpis, "partner_registrations") == 2
    assert kpis["partner_registrations"]["apart"] == {"via_click": 1, "via_code": 1, "suspicious": 0}


def test_roi_is_withheld_rather_than_minus_100_percent_when_nothing_is_saved_yet(
        engine: Engine, settings: Settings) -> None:
    load_october(engine)
    november = {**OCTOBER_COSTS, "month": "2026-11"}
    kpis = build_report(engine, october_settings(settings, costs=[november]), month(2026, 11), trend_months=0,
                        as_of=date(2026, 12, 1)).kpis
    # No pool hire and no credit used in November: (0 − 50,000) / 50,000 would read −100%.
    assert value(kpis, "roi") is None
    assert kpis["roi"]["missing"].startswith("no savings recorded yet")


def test_a_month_in_progress_is_cut_at_the_day_computed_for(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    report = build_report(engine, october_settings(settings), month(2026, 10), trend_months=2,
                          as_of=date(2026, 10, 9))
    assert report.period == Period(date(2026, 10, 1), date(2026, 10, 9))
    assert report.cut_from == date(2026, 10, 31)
    # Applied Oct 1–9: a1, a3, a4, the hire and the withdrawal.
    assert value(report.kpis, "applications") == 5
    # Costs are monthly: the month in progress has October's costs (no cost is reported missing); only
    # the hire (Oct 20) is still to come.
    assert report.kpis["cost_per_hire"]["missing"] == "no hires in the period"
    with pytest.raises(ValueError, match="after the day it is computed for"):
        build_report(engine, october_settings(settings), month(2026, 11), as_of=date(2026, 10, 9))


def test_the_loop_counts_people_matched_by_every_run_shortlists_included(engine: Engine,
                                                                          settings: Settings) -> None:
    """A shortlist run mails nobody, yet its matches are matches: the loop's 「マッチ」 counts them."""
    load_october(engine)
    load_october_pool(engine)
    with session_scope(engine) as s:
        sales = s.scalar(select(Job).where(Job.external_id == "J1"))
        dev = s.scalar(select(Job).where(Job.external_id == "J2"))
        people = s.execute(select(Candidate.id, Application.id).join(Application)
                           .where(Candidate.email_key.in_(["c1@example.com", "c3@example.com"]))
                           .order_by(Candidate.id, Application.id)).all()
        first = {cid: aid for cid, aid in reversed(people)}
        run = MatchRun(as_of=date(2026, 10, 20), run_at=jst(2026, 10, 20, 9), new_since=jst(2026, 10, 2),
                       mode="shortlist", params={}, counts={}, score_method="rules")
        late = MatchRun(as_of=date(2026, 11, 2), run_at=jst(2026, 11, 1, 0, 0), new_since=jst(2026, 10, 20),
                        mode="shortlist", params={}, counts={}, score_method="rules")
        s.add_all([run, late])
        s.flush()
        october = [(run, cid, job) for cid in first for job in (sales, dev)][:3]
        for rank, (r, cid, job) in enumerate([*october, (late, next(iter(first)), sales)], start=1):
            s.add(PoolMatch(run_id=r.id, job_id=job.id, candidate_id=cid, application_id=first[cid],
                            rank=rank, score=50.0, required_score=1.0, preferred_score=0.0, text_score=0.5,
                            location_score=1.0, potential_score=40.0, bucket="良い一致", why="t",
                            holdout=False))
    kpis = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0).kpis
    matched = kpis["pool_matched"]
    # The auto run: 10 people (6 mailed, 4 held out), one position each; the shortlist run of 20 October:
    # 2 people, 3 (person, position) pairs; the run at 00:00 JST on 1 November is November's.
    assert matched["value"] == 12
    assert matched["apart"] == {"matches": 13, "shortlisted": 2, "auto_matched": 10}
    pool_row = loop_stages(kpis, "ja")[2]
    assert pool_row[1][:2] == ("マッチ（13組）", 12.0)
    # After the match: the 6 mailed by the auto run and the 2 listed for recruiters, who contact them.
    assert pool_row[2][:2] == ("再コンタクト・候補リスト\n（うちリスト 2）", 8.0)
    assert loop_stages(kpis, "en")[2][2][:2] == ("Mailed or shortlisted\n(2 listed)", 8.0)
    assert shortlist_note(kpis, "ja").startswith("候補リストの人にはメールを送らず")


def test_without_provider_events_deliveries_bounces_and_opens_are_no_data_not_zero(
        engine: Engine, settings: Settings) -> None:
    """The file and SMTP backends report nothing: a delivery, a bounce or an open cannot be known, so their
    rates read 「データなし」 with the reason, while clicks on our own links still count."""
    load_october(engine)
    load_october_pool(engine)
    with session_scope(engine) as s:
        s.execute(delete(EmailEvent))
        s.execute(update(Message).where(Message.state.in_(["delivered", "bounced"])).values(state="accepted"))
    kpis = build_report(engine, october_settings(settings), month(2026, 10), trend_months=0).kpis
    # Delivered too: the clicks on our own links prove two mails arrived, but not how many of the eight
    # did; a lower bound read as a rate would mislead, so it reads 「データなし」 like bounces and opens.
    for name in ("email_delivered_rate", "email_bounced_rate", "email_opened_rate"):
        assert kpis[name]["value"] is None, name
        assert missing_text(kpis[name]["missing"], "ja") == (
            "期間内のメールについて配信事業者からの報告がありません"
            "（ファイル出力や SMTP での送信では、到達・不達・開封は報告されません）")
        assert kpis[name]["inputs"]["reported"] == 0
    # Our own tracked links still tell: m1's partner link and c1's job link (p1's click was only an event).
    assert kpis["email_clicked_rate"]["value"] == 2 / 8
