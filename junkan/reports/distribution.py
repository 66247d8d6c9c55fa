"""The monthly distribution: the report's PDF mailed to the internal recipients (docs/kpis.md).

Only the report of a whole calendar month that has ended is mailed: a month in progress, a quarter or a
range of days typed by hand is a look, not the month's report, and mailing it would take the month's one
mail (the outbox sends each period to each recipient once). What the mail says is fixed here, from the
built report (the period in words and the headline cards: aggregate figures only); the outbox
(junkan/outbox/report_mail.py) queues and sends it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.mail.backends import MailBackend
from junkan.outbox.report_mail import ReportMailRun, mail_report
from junkan.reports.build import Report
from junkan.reports.labels import Lang, text
from junkan.reports.periods import month
from junkan.reports.render import period_text
from junkan.reports.sections import cards


def is_monthly(report: Report) -> bool:
    """A whole calendar month, ended by the day the report was computed for."""
    p = report.period
    return report.cut_from is None and p == month(p.start.year, p.start.month)


def mail_payload(report: Report, lang: Lang, pdf: Path) -> dict[str, Any]:
    """What the mail says and attaches, stored on each message: no name, no address."""
    return {
        "period": report.period.label,
        "title": period_text(report, lang),
        "pdf": str(pdf.resolve()),
        "cards": [{"label": c["kpi"], "value": c["value"], "change": c["change"]}
                  for c in cards(report.kpis, lang, report.previous)],
    }


def distribute(engine: Engine, settings: Settings, clock: RunClock, report: Report, pdf: Path, lang: Lang,
               *, backend: MailBackend | None = None) -> ReportMailRun | None:
    """Mail the month's PDF to `report.recipients`; None when the report is not a month's."""
    if not is_monthly(report):
        return None
    return mail_report(engine, settings, clock, period=report.period.label,
                       payload=mail_payload(report, lang, pdf), lang=lang, backend=backend)


def distribution_note(run: ReportMailRun | None, lang: Lang) -> str:
    """One sentence for the run's artifact: how many recipients got the PDF, or why none did."""
    if run is None:
        return text("mail_not_monthly", lang)
    if not run.recipients:
        return text("mail_no_recipients", lang)
    return text("mail_done", lang).format(**run.counts())
