"""The sections of a preview, one per sending flow, and running them: in order, in one read-only session
that is rolled back at the end. Each section reuses the selection of the flow it previews, so the preview
and the real run cannot drift apart.

- `send-rejections`: the notices a run late that day would send, by template and locale. The same
  selection as the real run: `plan_due_notices` (what enqueue would add) plus the pending messages already
  due (`due_rows_query`, what the send run claims), each re-checked with the sender's own `blocker` and
  partner-consent rule. Decisions ingested after the preview are not known to it.
- `recontact`: the match run that day, in memory, and the shortlists or mails it would make. It runs the
  real planning (`plan_run`: pool, potential scores, new openings, vectorised matching) with
  `persist_model=False`, so it costs what the run's matching step costs and writes nothing; a model the run
  would train is trained in memory only. Openings are "new" since the last stored run, as if no other run
  came before that day. In `auto` mode the mails come from the run's own `choose_mails`.
- consent renewals: the `talent_pool` grants that would be reminded that day, and the renewal mails already
  waiting, with one renewal rendered for the placeholder person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.consent.renewal import RENEWAL_KIND
from junkan.db.models import MessageState
from junkan.mail.identity_guard import LIVE_BACKENDS, sample_identity_values
from junkan.mail.templates import TemplateStore
from junkan.mail.timing import add_business_days, is_business_day
from junkan.outbox.enqueue import NOTICE_KINDS, plan_due_notices
from junkan.outbox.notices import window_end
from junkan.outbox.recontact import (
    RECONTACT_KIND,
    ListedJob,
    MatchPick,
    PlannedMail,
    RecontactRenderer,
    choose_mails,
    picked_applications,
    reachability,
)
from junkan.outbox.render import (
    NoticeRenderer,
    NoticeRow,
    blocker,
    due_rows_query,
    planned_rows,
    rows_from,
    strip_partner_if_withdrawn,
)
from junkan.outbox.renewal_mail import RenewalRenderer, enqueue_renewals
from junkan.pool.runs import RunPlan, plan_run
from junkan.preview.model import (
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_ID,
    Group,
    Preview,
    PreviewDay,
    Sample,
    SectionPreview,
    placeholder_name,
    placeholder_row,
)


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
    person = placeholder_name(row.locale)
    fictitious = replace(row, message_id=None, public_id=PLACEHOLDER_ID, name=person,
                         email=PLACEHOLDER_EMAIL)
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


def _picks(plan: RunPlan) -> list[MatchPick]:
    # Matches are not stored yet: their position in the plan stands in for the id.
    return [MatchPick(match_id=n, candidate_id=r["candidate_id"], application_id=r["application_id"],
                      job_id=r["job_id"], holdout=r["holdout"], score=r["score"], rank=r["rank"])
            for n, r in enumerate(plan.rows)]


def _sample(day: PreviewDay, plan: RunPlan, mail: PlannedMail) -> Sample:
    jobs = {t.job_id: t for t in plan.targets}
    listed = [ListedJob(j, jobs[j].title, jobs[j].location) for j in mail.job_ids]
    renderer = RecontactRenderer(day.settings, None, previews={PLACEHOLDER_ID: listed})
    prepared = renderer.prepare(placeholder_row(RECONTACT_KIND, mail.locale))
    return Sample(template=prepared.template_name, person=placeholder_name(mail.locale),
                  subject=prepared.mail.subject, text=prepared.mail.text)


def recontact_section(day: PreviewDay) -> SectionPreview:
    settings = day.settings
    mode = settings.recontact.mode
    section = SectionPreview(name="recontact", title=f"Re-contact (recontact, mode {mode})")
    plan = plan_run(day.session, settings, as_of=day.day, now=day.now, mode=mode, persist_model=False)
    run = plan.counts()
    shortlists = len({(r["job_id"], r["opening_id"]) for r in plan.rows})
    section.counts = {"new_openings": run["new_openings"], "eligible_pool": run["eligible_pool"],
                      "matched_people": run["matched_people"], "shortlists": shortlists}
    if mode == "shortlist":
        section.total = shortlists
        section.notes.append(f"shortlist mode: no mail to candidates; {shortlists} shortlist(s) for "
                             f"recruiters (artifact and CSV), {run['matched_people']} people on them")
        return section
    picks = _picks(plan)
    people = reachability(day.session, picked_applications(picks), day.now, settings=settings)
    mails = choose_mails(picks, people, settings)
    waiting = len(day.session.execute(due_rows_query(day.now, (RECONTACT_KIND,))).all())
    section.counts.update({"held_out": mails.held_out, "no_recontact_consent": mails.no_consent,
                           "suppressed": mails.suppressed, "no_address": mails.no_address,
                           "no_longer_eligible": mails.no_longer_eligible, "already_pending": waiting})
    by_locale = Counter(m.locale for m in mails.planned)
    section.groups = [Group(f"{loc}/{RECONTACT_KIND}", loc, n) for loc, n in by_locale.most_common()]
    if not day.business_day:
        section.notes.append(f"{day.day} is not a business day: the mails are enqueued and wait for the "
                             "next one")
    else:
        section.total = len(mails.planned) + waiting
    if mails.planned:
        section.sample = _sample(day, plan, mails.planned[0])
    return section


def _renewal_sample(day: PreviewDay) -> Sample:
    locale = day.settings.notice.default_locale
    prepared = RenewalRenderer(day.settings).prepare(placeholder_row(RENEWAL_KIND, locale))
    return Sample(template=prepared.template_name, person=placeholder_name(locale),
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
        section.sample = _renewal_sample(day)
    return section


PreviewStep = Callable[[PreviewDay], SectionPreview]
#: The sending flows, in the order `daily` runs them. A new mail flow adds its one function here.
SECTIONS: tuple[PreviewStep, ...] = (notices_section, recontact_section, renewals_section)


def default_preview_date(settings: Settings, clock: RunClock) -> date:
    """The day of the next sending window that has not closed yet: today until its window closes (the
    mails still to go out today), else the next business day."""
    notice = settings.notice
    local = clock.local(clock.now())
    if is_business_day(local.date(), extra_closed_days=notice.extra_closed_days) \
            and local.time() < notice.window_end:
        return local.date()
    return add_business_days(local.date(), 1, extra_closed_days=notice.extra_closed_days)


def preview_day(engine: Engine, settings: Settings, day: date,
                sections: tuple[PreviewStep, ...] = SECTIONS) -> Preview:
    """What the sending flows would do on `day` (any day, past or future). Changes nothing."""
    open_day = is_business_day(day, extra_closed_days=settings.notice.extra_closed_days)
    with Session(engine) as session:
        try:
            ctx = PreviewDay(session=session, settings=settings, day=day, now=window_end(day, settings),
                             business_day=open_day)
            refused = (sample_identity_values(settings) if settings.mail.backend in LIVE_BACKENDS else [])
            return Preview(day=day, business_day=open_day, sections=[step(ctx) for step in sections],
                           refused=refused)
        finally:
            session.rollback()
