"""Preview of `send-rejections`: the notices a run late that day would send, by template and locale.

The same selection as the real run: `plan_due_notices` (what enqueue would add) plus the pending
messages already due (`due_rows_query`, what the send run claims), each re-checked with the sender's own
`blocker` and partner-consent rule. Decisions ingested after the preview are not known to it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from junkan.db.models import MessageState
from junkan.mail.templates import TemplateStore
from junkan.outbox.enqueue import NOTICE_KINDS, plan_due_notices
from junkan.outbox.render import (
    NoticeRenderer,
    NoticeRow,
    blocker,
    due_rows_query,
    planned_rows,
    rows_from,
    strip_partner_if_withdrawn,
)
from junkan.preview import placeholder
from junkan.preview.model import Group, PreviewDay, Sample, SectionPreview


def _sendable(day: PreviewDay, renderer: NoticeRenderer) -> tuple[list[NoticeRow], Counter[str]]:
    session, settings, now = day.session, day.settings, day.now
    not_sent: Counter[str] = Counter()
    key = settings.retention.key_bytes()
    rows = rows_from(session, session.execute(due_rows_query(now, NOTICE_KINDS)), key)
    planned, _ = plan_due_notices(session, settings, now)
    for p in planned:
        if p.state != MessageState.PENDING:
            not_sent[p.cancelled_reason or p.state] += 1
    rows += planned_rows(session, planned, now, renderer.signer, key=key)
    sendable = []
    for row in rows:
        why = blocker(row)
        if why is not None:
            not_sent[why[0] if why[0] == "suppressed" else why[1]] += 1
            continue
        sendable.append(strip_partner_if_withdrawn(row, settings))
    return sendable, not_sent


def _template(store: TemplateStore, row: NoticeRow) -> tuple[str, str]:
    chosen = store.select(row.kind, locale=row.locale, category=row.reason_category,
                          job_external_id=row.job_external_id)
    return chosen.template_name, chosen.locale


def sample_notice(renderer: NoticeRenderer, row: NoticeRow) -> Sample:
    """`row` rendered as sent, with the person replaced by the placeholder candidate."""
    person = placeholder.name(row.locale)
    fictitious = replace(row, message_id=None, public_id=placeholder.PUBLIC_ID, name=person,
                         email=placeholder.EMAIL)
    prepared = renderer.prepare(fictitious)
    return Sample(template=prepared.template_name, person=person, subject=prepared.mail.subject,
                  text=prepared.mail.text)


def notices_section(day: PreviewDay) -> SectionPreview:
    section = SectionPreview(name="notices", title="Rejection and withdrawal notices (send-rejections)")
    renderer = NoticeRenderer(day.settings)
    rows, not_sent = _sendable(day, renderer)
    by_group: Counter[tuple[str, str]] = Counter()
    partner: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], NoticeRow] = {}
    for row in rows:
        key = _template(renderer.store, row)
        by_group[key] += 1
        if row.advertising and row.partner_name:
            partner[key] += 1
            first.setdefault(("partner", ""), row)
        first.setdefault(key, row)
    section.groups = [Group(template, locale, n, partner[(template, locale)])
                      for (template, locale), n in sorted(by_group.items(), key=lambda kv: (-kv[1], kv[0]))]
    section.counts = dict(sorted(not_sent.items()))
    if not day.business_day:
        section.notes.append(f"{day.day} is not a business day: nothing is sent; these wait for the next one")
    else:
        section.total = len(rows)
    if rows:
        # The mail with the partner block shows every part of a notice; the largest group otherwise.
        largest = section.groups[0]
        row = first.get(("partner", ""), first[(largest.template, largest.locale)])
        section.sample = sample_notice(renderer, row)
    return section
