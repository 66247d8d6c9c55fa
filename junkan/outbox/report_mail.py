"""The monthly report mailed to internal recipients (kind `report`, docs/kpis.md "Monthly distribution").

One mail per (report period, configured recipient), with the report's PDF attached, recorded in the
outbox like every other mail and sent by the same loop (claim, gate, mark `sending`, provider call), so a
retried or crashed run never mails a recipient twice: the logical key names the period and the keyed
hash of the address, and a re-run finds it taken.

The recipients are the employer's own staff, listed in `report.recipients`; the mail holds aggregate
figures only. So no consent is asked and there is no candidate, no partner link and no unsubscribe link.
The address is never stored: the row keeps its keyed hash (junkan.keyed), and the sender looks the
address up in the settings when it sends (the gate stops the mail of a recipient removed meanwhile). Logs,
counts and artifacts name no recipient.

Internal mail is not held to the candidates' sending window: it goes when the report run happens.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.dialect import insert_ignore
from junkan.db.models import Message, MessageState
from junkan.mail.backends import Attachment, MailBackend, OutgoingMail, build_backend
from junkan.outbox.enqueue import new_public_id
from junkan.outbox.gate import REPORT_KIND, report_recipients
from junkan.outbox.render import NoticeRenderer, NoticeRow, Prepared
from junkan.outbox.sender import OutboxSender, SendCounts
from junkan.tally import Tally

TEMPLATE_NAME = "report"
#: Bumped when the wording below changes (stored on each message as its template version).
TEMPLATE_VERSION = "1"
_MB = 1024 * 1024


def logical_key(period: str, recipient_hash: str) -> str:
    """`report:<period label>:<keyed hash of the address>`: once per period and recipient."""
    return f"{REPORT_KIND}:{period}:{recipient_hash}"


@dataclass
class ReportMailRun(Tally):
    """What one report run did about the mail: counts only, never an address."""

    ORDER = ("recipients", "enqueued", "already", "sent", "failed", "stopped", "unknown", "pending")

    #: Configured recipients (0: the report is not mailed).
    recipients: int = 0
    #: Mails queued by this run.
    enqueued: int = 0
    #: Recipients this period was mailed (or queued) to by an earlier run.
    already: int = 0
    sent: int = 0
    #: Refused by the provider (a bad address).
    failed: int = 0
    #: Stopped by the send gate: the recipient was removed from the settings, or is suppressed.
    stopped: int = 0
    unknown: int = 0
    #: Left pending by a provider that did not take them (sent by the next run of the report).
    pending: int = 0
    #: The provider refused us (key, sender): nothing more was sent.
    fatal: bool = False


def enqueue_report_mail(session: Session, settings: Settings, now: datetime, *, period: str,
                        payload: dict[str, Any], lang: str) -> tuple[int, int]:
    """Queue one mail per configured recipient not yet mailed for `period`; (enqueued, already).
    The caller commits."""
    key = settings.retention.key_bytes()
    rows = [{"public_id": new_public_id(), "logical_key": logical_key(period, h), "kind": REPORT_KIND,
             "candidate_id": None, "application_id": None, "recipient_hash": h, "payload": payload,
             "state": MessageState.PENDING, "due_at": now, "advertising": False, "locale": lang,
             "attempts": 0, "created_at": now, "updated_at": now}
            for h in report_recipients(key, settings)]
    if not rows:
        return 0, 0
    inserted = session.execute(insert_ignore(session, Message.__table__).returning(Message.__table__.c.id),
                               rows).scalars().all()
    return len(inserted), len(rows) - len(inserted)


# -- the mail ---------------------------------------------------------------------------------------------

_WORDS = {
    "ja": {
        "subject": "【{company}】採用 KPI・ROI レポート {title}",
        "greeting": "採用ご担当者各位",
        "attached": "{title}の採用 KPI・ROI レポートを PDF（A4）でお送りします。",
        "too_large": "PDF が {limit} MB を超えたため添付していません。"
                     "レポートの保存先にある {file} をご覧ください。",
        "headline": "主な指標",
        "change": "前期間比",
        "files": "Excel・HTML 版はレポートの保存先（{file} と同じフォルダ）にあります。",
        "footer": "このメールは Junkan が月次レポートの作成時に自動でお送りしています。"
                  "配布先は設定 JUNKAN_REPORT__RECIPIENTS で変更できます。",
    },
    "en": {
        "subject": "[{company}] Recruiting KPI and ROI report, {title}",
        "greeting": "To the recruiting team,",
        "attached": "Please find attached the recruiting KPI and ROI report for {title} (PDF, A4).",
        "too_large": "The PDF is larger than {limit} MB and is not attached: please open {file} in the "
                     "report folder.",
        "headline": "Headline figures",
        "change": "change",
        "files": "The Excel and HTML versions are in the report folder (next to {file}).",
        "footer": "Junkan sends this mail when it makes the monthly report. The recipients are set in "
                  "JUNKAN_REPORT__RECIPIENTS.",
    },
}


def _lines(payload: dict[str, Any], words: dict[str, str], attached: bool, limit: int) -> list[str]:
    file = Path(str(payload["pdf"])).name
    lines = [words["attached"].format(title=payload["title"])]
    if not attached:
        lines.append(words["too_large"].format(limit=limit, file=file))
    cards = [c for c in payload.get("cards", []) if c.get("value")]
    if cards:
        lines += ["", words["headline"]]
        for card in cards:
            shown = card.get("change") not in (None, "", "—")
            change = f"（{words['change']} {card['change']}）" if shown else ""
            lines.append(f"・{card['label']}: {card['value']}{change}")
    lines += ["", words["files"].format(file=file)]
    return lines


def compose(payload: dict[str, Any], lang: str, company: str, *, attached: bool,
            limit_mb: int) -> tuple[str, str, str]:
    """(subject, text, html) of the report mail from its stored payload."""
    words = _WORDS["en" if lang == "en" else "ja"]
    body = _lines(payload, words, attached, limit_mb)
    subject = words["subject"].format(company=company, title=payload["title"])
    text = "\n".join([words["greeting"], "", *body, "", "--", words["footer"]]) + "\n"
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" if line else "" for line in
                         [words["greeting"], *body, words["footer"]])
    markup = f'<!doctype html><html lang="{html.escape(lang)}"><body>{paragraphs}</body></html>'
    return subject, text, markup


class ReportMailRenderer(NoticeRenderer):
    """Builds a report mail from its row: the address from the settings (by its keyed hash), the words
    from the payload, the PDF read from the report folder at the moment of sending."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        key = settings.retention.key_bytes()
        self._address = report_recipients(key, settings)
        self._limit_mb = settings.report.attachment_max_mb

    def prepare(self, row: NoticeRow) -> Prepared:
        if row.kind != REPORT_KIND or row.payload is None or row.recipient_hash is None:
            raise ValueError(f"message {row.public_id} is no report mail")
        address = self._address.get(row.recipient_hash)
        if address is None:  # the gate stops these; a recipient removed between gate and render
            raise LookupError(f"the recipient of {row.public_id} is no longer configured")
        pdf = Path(str(row.payload["pdf"]))
        size = pdf.stat().st_size  # a missing file fails the render: the mail stays pending, the run says so
        attached = size <= self._limit_mb * _MB
        sender = self.settings.sender
        company = (sender.company_name_en or sender.company_name) if row.locale == "en" \
            else sender.company_name
        subject, text, markup = compose(row.payload, row.locale, company, attached=attached,
                                        limit_mb=self._limit_mb)
        attachments = (Attachment(pdf.name, pdf.read_bytes()),) if attached else ()
        mail = OutgoingMail(message_id=row.public_id, to_email=address, to_name=None, subject=subject,
                            text=text, html=markup, kind=REPORT_KIND, template_name=TEMPLATE_NAME,
                            attachments=attachments)
        return Prepared(row=row, mail=mail, template_name=TEMPLATE_NAME, template_version=TEMPLATE_VERSION)


def mail_report(engine: Engine, settings: Settings, clock: RunClock, *, period: str, payload: dict[str, Any],
                lang: str = "ja", backend: MailBackend | None = None) -> ReportMailRun:
    """Queue the report of `period` for every configured recipient not mailed yet, then send every
    pending report mail (this one's, and any an earlier run left pending). Nothing without recipients."""
    run = ReportMailRun(recipients=len(settings.report.recipients))
    if not run.recipients:
        return run
    with session_scope(engine) as session:
        run.enqueued, run.already = enqueue_report_mail(session, settings, clock.now(), period=period,
                                                        payload=payload, lang=lang)
    own_backend = backend is None
    backend = backend or build_backend(settings, clock=clock.now)
    try:
        sent = OutboxSender(engine, settings, backend=backend, renderer=ReportMailRenderer(settings),
                            clock=clock.now, kinds=(REPORT_KIND,), windowed=False).run()
    finally:
        if own_backend:
            backend.close()
    return _counted(run, sent)


def _counted(run: ReportMailRun, sent: SendCounts) -> ReportMailRun:
    run.sent, run.failed, run.unknown = sent.sent, sent.failed, sent.unknown
    run.stopped = sent.cancelled + sent.suppressed
    run.pending = sent.retry + sent.held + sent.template_error
    run.fatal = sent.fatal
    return run
