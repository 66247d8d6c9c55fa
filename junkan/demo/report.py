"""The demo's KPI/ROI report: sample costs for the last 12 months, a baseline, and the HTML in
<workdir>/reports/.

The sample company has a year of history but only two days of Junkan, so the report covers the last 12
calendar months up to the demo day: enough hires for a cost per hire, the demo's notices for a follow-up
rate, the partner's first credits, and the re-applications of the history. The costs are plausible yen
figures for a mid-sized company hiring a few people a month; the baseline cost per hire is what it paid
before Junkan (a configured figure, as a customer would set it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from junkan.clock import RunClock
from junkan.config import CostInputs, Settings
from junkan.mail.backends.file import FileBackend
from junkan.mail.sender_identity import SenderHeaders
from junkan.partner import ledger
from junkan.partner.factory import configured_partners
from junkan.reports.build import build_report
from junkan.reports.distribution import distribute
from junkan.reports.periods import Period, month, previous_month
from junkan.reports.render import period_text, write_report

#: What a hire cost before Junkan, in yen (the figure the cost-per-hire change is measured against).
BASELINE_COST_PER_HIRE_YEN = 1_100_000
#: The re-application rate of rejected candidates before Junkan.
BASELINE_REAPPLICATION_RATE = 0.02
MONTHS = 12
#: The demo company's one internal recipient of the monthly report (JUNKAN_REPORT__RECIPIENTS).
DEMO_RECIPIENT = "keiei-kikaku@example.co.jp"


def demo_period(day: date) -> Period:
    """The 12 calendar months ending with the demo day's month."""
    last = month(day.year, day.month)
    y, m = day.year, day.month - (MONTHS - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return Period(month(y, m).start, last.end)


def demo_costs(period: Period) -> list[CostInputs]:
    """One row per month for a company making about eight hires a month: job-board advertising rises
    with the spring and autumn campaigns, agency fees (a third of first-year pay on a few hires) vary, the
    recruiters' time is steady, Junkan costs a flat monthly fee."""
    rows = []
    for i, m in enumerate(period.months()):
        campaign = m.start.month in (3, 4, 9, 10)
        rows.append(CostInputs(
            month=m.label,
            advertising_yen=2_600_000 if campaign else 1_900_000,
            agency_fees_yen=(3_200_000, 2_400_000, 4_000_000)[i % 3],
            recruiter_time_yen=1_500_000,
            other_internal_yen=300_000,
            running_cost_yen=80_000,
        ))
    return rows


def demo_report_settings(settings: Settings, period: Period) -> Settings:
    report = settings.report.model_copy(update={
        "costs": demo_costs(period),
        "baseline": settings.report.baseline.model_copy(update={
            "cost_per_hire_yen": BASELINE_COST_PER_HIRE_YEN,
            "reapplication_rate": BASELINE_REAPPLICATION_RATE}),
        # The sample company is small: comparisons need fewer people than the production default.
        "min_group_size": 10,
    })
    return settings.model_copy(update={"report": report})


def redeem_demo_credit(engine: Engine, settings: Settings) -> bool:
    """Spend one earned credit on a sample hire the partner supported, as HR would record it, so the
    report has a credit value and an ROI. False when there is no credit to spend."""
    for partner in configured_partners(settings):
        rule = ledger.ContractRule.from_settings(partner)
        try:
            ledger.redeem_credit(engine, rule, "demo:hire:partner-supported", note="demo")
        except ledger.LedgerError:
            continue
        return True
    return False


def write_demo_report(engine: Engine, settings: Settings, workdir: Path, day: date) -> Path:
    """Build the report of the 12 months up to `day` with the sample costs; returns the HTML's path."""
    period = demo_period(day)
    report = build_report(engine, demo_report_settings(settings, period), period, as_of=day)
    out = workdir / "reports"
    write_report(report, "xlsx", "ja", None, out)
    return write_report(report, "html", "ja", None, out)


def mail_demo_report(engine: Engine, settings: Settings, workdir: Path, day: date) -> str:
    """The monthly distribution as the run on the 1st does it: last month's report printed to PDF and
    mailed to the configured internal recipient, written as an .eml file to reports/mail/ (apart from
    the candidates' notices). One line for the demo's summary; no address in it."""
    period = previous_month(day)
    demo = demo_report_settings(settings, demo_period(day))
    report = build_report(engine, demo, period, as_of=day)
    folder = workdir / "reports"
    write_report(report, "html", "ja", None, folder)  # as the monthly run writes them beside the PDF
    write_report(report, "xlsx", "ja", None, folder)
    try:
        pdf = write_report(report, "pdf", "ja", None, folder)
    except RuntimeError as exc:  # no Chromium on this machine: the rest of the demo stands
        return f"not mailed ({exc})"
    backend = FileBackend(folder / "mail", SenderHeaders.from_settings(settings))
    run = distribute(engine, demo, RunClock.start(settings.business.timezone, day), report, pdf, "ja",
                     backend=backend)
    if run is None:
        return "not mailed (no whole month before the demo day)"
    return (f"{period_text(report, 'en')}: {pdf.name} mailed to {run.recipients} internal recipient(s), "
            f"{run.sent} sent now, {run.already} before, as .eml in {folder / 'mail'}")
