"""Preview of `recontact`: the match run that day, in memory, and the shortlists or mails it would make.

It runs the real planning (`plan_run`: pool, potential scores, new openings, vectorised matching) with
`persist_model=False`, so it costs what the run's matching step costs and writes nothing; a model the run
would train is trained in memory only. Openings are "new" since the last stored run, as if no other run
came before that day. In `auto` mode the mails come from the run's own `choose_mails`.
"""

from __future__ import annotations

from collections import Counter

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
from junkan.outbox.render import due_rows_query
from junkan.pool.runs import RunPlan, plan_run
from junkan.preview import placeholder
from junkan.preview.model import Group, PreviewDay, Sample, SectionPreview


def _picks(plan: RunPlan) -> list[MatchPick]:
    # Matches are not stored yet: their position in the plan stands in for the id.
    return [MatchPick(match_id=n, candidate_id=r["candidate_id"], application_id=r["application_id"],
                      job_id=r["job_id"], holdout=r["holdout"], score=r["score"], rank=r["rank"])
            for n, r in enumerate(plan.rows)]


def _sample(day: PreviewDay, plan: RunPlan, mail: PlannedMail) -> Sample:
    jobs = {t.job_id: t for t in plan.targets}
    listed = [ListedJob(j, jobs[j].title, jobs[j].location) for j in mail.job_ids]
    renderer = RecontactRenderer(day.settings, None, previews={placeholder.PUBLIC_ID: listed})
    prepared = renderer.prepare(placeholder.notice_row(RECONTACT_KIND, mail.locale))
    return Sample(template=prepared.template_name, person=placeholder.name(mail.locale),
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
