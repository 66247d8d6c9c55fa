"""Preview of consent renewals: the `talent_pool` grants that would be reminded that day, and the renewal
mails already waiting, with one renewal rendered for the placeholder person."""

from __future__ import annotations

from junkan.consent.renewal import RENEWAL_KIND
from junkan.outbox.render import due_rows_query
from junkan.outbox.renewal_mail import RenewalRenderer, enqueue_renewals
from junkan.preview import placeholder
from junkan.preview.model import PreviewDay, Sample, SectionPreview


def _sample(day: PreviewDay) -> Sample:
    locale = day.settings.notice.default_locale
    prepared = RenewalRenderer(day.settings).prepare(placeholder.notice_row(RENEWAL_KIND, locale))
    return Sample(template=prepared.template_name, person=placeholder.name(locale),
                  subject=prepared.mail.subject, text=prepared.mail.text)


def renewals_section(day: PreviewDay) -> SectionPreview:
    consent = day.settings.consent
    section = SectionPreview(name="renewals", title="Consent renewals (consent_renewal)")
    if not consent.renewal_enabled:
        section.notes.append("renewals: off (JUNKAN_CONSENT__RENEWAL_ENABLED is false)")
        return section
    # The same selection the send-rejections flow runs, in its dry-run form: nothing is written.
    planned = enqueue_renewals(day.session, day.settings, day.now, dry_run=True)
    waiting = len(day.session.execute(due_rows_query(day.now, (RENEWAL_KIND,))).all())
    section.total = planned.enqueued + waiting
    section.counts = {**planned.counts(), "already_pending": waiting}
    section.notes.append(f"talent-pool consents lapsing within {consent.renewal_days_before} days are "
                         "reminded once each")
    if section.total:
        section.sample = _sample(day)
    return section
