"""Re-contact mails (kind `recontact`) through the outbox: enqueue from a match run, render at send time.

One mail per person per run: the logical key is "match:<id of the person's best match>:recontact", so
enqueueing a run twice adds nothing. The mail lists the person's best `max_openings_per_mail` distinct jobs
of that run, each behind a tracked `job:<id>` link. It is advertising under 特定電子メール法: only people
whose current `recontact` consent is a grant are mailed, and every mail carries the sender's identity,
postal address and a one-click opt-out (the same unsubscribe link and List-Unsubscribe headers as the
partner section of notices). Who may be mailed is the send gate's answer (junkan/outbox/gate.py: current
`recontact` AND `talent_pool` grants, not suppressed, not anonymised, not hired or applied since), asked
when the mail is queued, again for every pending one before the send run (`cancel_blocked`), and once more
by the sender just before the chunk is marked `sending`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.orm import Session

from junkan.batching import INSERT_CHUNK, batched
from junkan.config import Settings
from junkan.db.dialect import insert_ignore
from junkan.db.models import Candidate, Job, Message, MessageState
from junkan.db.models_pool import PoolMatch
from junkan.db.types import utcnow
from junkan.mail.backends import MailBackend, OutgoingMail
from junkan.mail.headers import clean_display_name, clean_subject
from junkan.mail.sender_identity import recruiting_contact
from junkan.mail.templates import TemplateStore, signature_values
from junkan.outbox.enqueue import EnqueueTally, logical_key, new_public_id
from junkan.outbox.gate import RECONTACT_KIND as RECONTACT_KIND
from junkan.outbox.gate import Reason, Subject, judge, sweep
from junkan.outbox.render import NoticeRenderer, NoticeRow, Prepared
from junkan.outbox.sender import OutboxSender, SendCounts

CANCEL_NO_CONSENT = Reason.NO_RECONTACT_CONSENT.value



@dataclass(frozen=True, slots=True)
class PlannedMail:
    """One person's mail of one run: ids only."""

    candidate_id: int
    application_id: int
    locale: str
    #: The listed matches, best first (one per job); the first one names the message.
    match_ids: tuple[int, ...]
    job_ids: tuple[int, ...]


@dataclass
class RecontactEnqueue(EnqueueTally):
    ORDER = ("people", "enqueued", "already", "held_out", "no_consent", "suppressed", "no_address",
             "no_longer_eligible")
    RENAMED: ClassVar[Mapping[str, str]] = {"enqueued": "mails_enqueued", "already": "already_enqueued",
                                            "no_consent": "no_recontact_consent"}

    people: int = 0
    already: int = 0
    held_out: int = 0
    no_consent: int = 0
    #: Hired or applied again since the match run (the send gate).
    no_longer_eligible: int = 0
    planned: list[PlannedMail] = field(default_factory=list, repr=False)


@dataclass(frozen=True, slots=True)
class MatchPick:
    """One match of a run as mail planning needs it: ids, score order and the hold-out flag."""

    match_id: int
    candidate_id: int
    application_id: int
    job_id: int
    holdout: bool
    score: float
    rank: int


@dataclass(frozen=True, slots=True)
class Reachability:
    """What the send gate said about a person for a re-contact mail now. Holds no address, only flags."""

    locale: str | None
    granted: bool
    suppressed: bool
    no_address: bool
    #: Hired or applied since the rejection the match is about (the gate's other reasons).
    no_longer_eligible: bool = False


_NO_CONSENT = frozenset({Reason.NO_RECONTACT_CONSENT, Reason.NO_TALENT_POOL_CONSENT,
                         Reason.ALL_MAIL_WITHDRAWN})


def reachability(session: Session, people: Mapping[int, int | None], now: datetime, *,
                 settings: Settings) -> dict[int, Reachability]:
    """The send gate's verdict on a re-contact mail now, per person (candidate id -> the application the
    match is about). Read-only."""
    ids = sorted(people)
    locales: dict[int, str | None] = {}
    for chunk in batched(ids, 1000):
        locales.update((cid, locale) for cid, locale in session.execute(
            select(Candidate.id, Candidate.locale).where(Candidate.id.in_(chunk))))
    verdicts = judge(session, [Subject(cid, RECONTACT_KIND, people[cid]) for cid in ids], now, settings)
    return {
        cid: Reachability(locale=locales.get(cid), granted=v.reason not in _NO_CONSENT,
                          suppressed=v.reason is Reason.SUPPRESSED,
                          no_address=v.reason in (Reason.ANONYMISED, Reason.NO_ADDRESS),
                          no_longer_eligible=v.reason in (Reason.HIRED_SINCE, Reason.APPLIED_SINCE))
        for cid, v in zip(ids, verdicts, strict=True)
    }


def choose_mails(picks: Iterable[MatchPick], people: dict[int, Reachability],
                 settings: Settings) -> RecontactEnqueue:
    """Who gets a mail listing which jobs: one per person, their best distinct jobs first. Pure."""
    by_person: dict[int, list[MatchPick]] = defaultdict(list)
    for pick in sorted(picks, key=lambda m: (m.candidate_id, -m.score, m.rank, m.match_id)):
        by_person[pick.candidate_id].append(pick)
    result = RecontactEnqueue()
    limit = settings.recontact.max_openings_per_mail
    for candidate_id, matches in by_person.items():
        first = matches[0]
        person = people[candidate_id]
        if first.holdout:
            result.held_out += 1
            continue
        if not person.granted:
            result.no_consent += 1
            continue
        if person.suppressed:
            result.suppressed += 1
            continue
        if person.no_address:
            result.no_address += 1
            continue
        if person.no_longer_eligible:
            result.no_longer_eligible += 1
            continue
        chosen: dict[int, int] = {}
        for m in matches:
            if m.job_id not in chosen and len(chosen) < limit:
                chosen[m.job_id] = m.match_id
        result.planned.append(PlannedMail(
            candidate_id=candidate_id, application_id=first.application_id, locale=person.locale or "ja",
            match_ids=tuple(chosen.values()), job_ids=tuple(chosen),
        ))
    result.people = len(by_person)
    return result


def plan_mails(session: Session, settings: Settings, run_id: int, now: datetime) -> RecontactEnqueue:
    """Who of the stored run `run_id` gets a mail, listing which jobs. Read-only."""
    picks = [MatchPick(*r) for r in session.execute(
        select(PoolMatch.id, PoolMatch.candidate_id, PoolMatch.application_id, PoolMatch.job_id,
               PoolMatch.holdout, PoolMatch.score, PoolMatch.rank)
        .where(PoolMatch.run_id == run_id)
    )]
    people = reachability(session, picked_applications(picks), now, settings=settings)
    return choose_mails(picks, people, settings)


def picked_applications(picks: Iterable[MatchPick]) -> dict[int, int | None]:
    """Candidate id -> the application of their best pick (the rejection a mail would be about)."""
    best: dict[int, MatchPick] = {}
    for p in picks:
        seen = best.get(p.candidate_id)
        if seen is None or (-p.score, p.rank, p.match_id) < (-seen.score, seen.rank, seen.match_id):
            best[p.candidate_id] = p
    return {cid: p.application_id for cid, p in best.items()}


def enqueue_recontact(session: Session, settings: Settings, run_id: int, now: datetime) -> RecontactEnqueue:
    """Insert one pending `recontact` message per planned person and link the listed matches to it."""
    result = plan_mails(session, settings, run_id, now)
    # The best match names the message: once per person and run.
    by_key = {logical_key("match", mail.match_ids[0], RECONTACT_KIND): mail for mail in result.planned}
    messages = Message.__table__
    insert = insert_ignore(session, messages).returning(messages.c.id, messages.c.logical_key)
    links: list[dict[str, int]] = []
    for keys in batched(by_key, INSERT_CHUNK):
        rows = [{"public_id": new_public_id(), "kind": RECONTACT_KIND, "logical_key": key,
                 "candidate_id": by_key[key].candidate_id, "application_id": by_key[key].application_id,
                 "state": MessageState.PENDING, "due_at": now, "advertising": True,
                 "locale": by_key[key].locale, "attempts": 0, "created_at": now, "updated_at": now}
                for key in keys]
        inserted = session.execute(insert, rows).all()
        links += [{"b_match": match_id, "b_message": message_id}
                  for message_id, key in inserted for match_id in by_key[key].match_ids]
        result.enqueued += len(inserted)
        result.already += len(rows) - len(inserted)
    matches = PoolMatch.__table__
    for batch in batched(links, INSERT_CHUNK):
        session.execute(update(matches).where(matches.c.id == bindparam("b_match"))
                        .values(message_id=bindparam("b_message")), batch)
    return result


def cancel_blocked(session: Session, settings: Settings, now: datetime) -> int:
    """Pending re-contact mails the send gate stops now (a consent lapsed or withdrawn, suppressed, hired
    or applied since …) are cancelled with the reason; how many."""
    return sum(sweep(session, (RECONTACT_KIND,), now, settings).values())


@dataclass(frozen=True, slots=True)
class ListedJob:
    job_id: int
    title: str
    location: str | None


class RecontactRenderer(NoticeRenderer):
    """Renders `recontact` rows: the listed jobs come from the run's matches linked to the message."""

    def __init__(self, settings: Settings, engine: Engine | None = None, *,
                 store: TemplateStore | None = None,
                 previews: dict[str, list[ListedJob]] | None = None, **kwargs: Any) -> None:
        super().__init__(settings, store=store, **kwargs)
        self.engine = engine
        #: Dry runs: public id -> the jobs a not-yet-enqueued mail would list.
        self.previews = previews or {}

    def listed_jobs(self, row: NoticeRow) -> list[ListedJob]:
        if row.public_id in self.previews:
            return self.previews[row.public_id]
        if self.engine is None or row.message_id is None:
            return []
        with Session(self.engine) as session:
            return load_listed_jobs(session, [row.message_id]).get(row.message_id, [])

    def job_url(self, public_id: str, job_id: int) -> str:
        return f"{self.base}/r/{self.signer.tracking_token(public_id, f'job:{job_id}')}"

    def prepare(self, row: NoticeRow) -> Prepared:
        jobs = self.listed_jobs(row)
        if not jobs:
            raise ValueError("a re-contact mail needs at least one listed job")
        sender = self.settings.sender
        if not (sender.company_name and sender.postal_address and sender.contact_email):
            raise ValueError("a re-contact mail needs the sender's name, address and contact "
                             "(特定電子メール法)")
        chosen = self.store.select(RECONTACT_KIND, locale=row.locale)
        company = sender.company_name_en if chosen.locale != "ja" and sender.company_name_en \
            else sender.company_name
        unsubscribe = self.unsubscribe_url(row.public_id)
        context = {
            "kind": RECONTACT_KIND, "locale": chosen.locale, "variant": "",
            "candidate_name": clean_display_name(row.name), "job_title": "", "company_name": company,
            "sender": {"company_name": company, "postal_address": sender.postal_address,
                       "contact_email": sender.contact_email},
            "partner": None, "advertising": True, "unsubscribe_url": unsubscribe,
            "preferences_url": self.preferences_url(row.public_id),
            "preferences_days": self.settings.consent.preference_link_max_age_days,
            **signature_values(recruiting_contact(self.settings), chosen.locale),
            "openings": [{"title": clean_display_name(j.title, 200), "location": j.location or "",
                          "url": self.job_url(row.public_id, j.job_id)} for j in jobs],
        }
        (s_name, t_name, h_name), (s_t, t_t, h_t) = chosen.names, chosen.compiled
        subject = clean_subject(self.store.render_compiled(s_name, s_t, context),
                                self.store.subject_max_chars)
        text = self.store.render_compiled(t_name, t_t, context).replace("\r\n", "\n")
        html = self.store.render_compiled(h_name, h_t, context).replace("\r\n", "\n")
        mail = OutgoingMail(
            message_id=row.public_id, to_email=row.email or "", to_name=clean_display_name(row.name),
            subject=subject, text=text if text.endswith("\n") else text + "\n", html=html,
            kind=RECONTACT_KIND,
            template_name=chosen.template_name, unsubscribe_url=unsubscribe, unsubscribe_post_url=unsubscribe,
            advertising=True,
        )
        # Stays advertising whatever the partner-consent check upstream thought of it.
        return Prepared(row=replace(row, advertising=True, ref_code=None, partner_name=None), mail=mail,
                        template_name=chosen.template_name, template_version=chosen.version)


def load_listed_jobs(session: Session, message_ids: list[int]) -> dict[int, list[ListedJob]]:
    rows = session.execute(
        select(PoolMatch.message_id, Job.id, Job.title, Job.location)
        .join(Job, Job.id == PoolMatch.job_id)
        .where(PoolMatch.message_id.in_(message_ids))
        .order_by(PoolMatch.message_id, PoolMatch.score.desc(), PoolMatch.id)
    )
    out: dict[int, list[ListedJob]] = defaultdict(list)
    for message_id, job_id, title, location in rows:
        if message_id is None:
            continue
        if all(j.job_id != job_id for j in out[message_id]):
            out[message_id].append(ListedJob(job_id, title, location))
    return out


def preview_rows(session: Session,
                 planned: list[PlannedMail]) -> tuple[list[NoticeRow], dict[str, list[ListedJob]]]:
    """Transient rows (throwaway ids) and their job lists for a dry run; nothing is written."""
    if not planned:
        return [], {}
    cands = {c.id: c for c in session.scalars(
        select(Candidate).where(Candidate.id.in_([p.candidate_id for p in planned])))}
    jobs = {j.id: j for j in session.scalars(
        select(Job).where(Job.id.in_({j for p in planned for j in p.job_ids})))}
    rows: list[NoticeRow] = []
    listed: dict[str, list[ListedJob]] = {}
    for p in planned:
        c = cands[p.candidate_id]
        public_id = "dry-" + new_public_id()
        rows.append(NoticeRow(
            message_id=None, public_id=public_id, kind=RECONTACT_KIND, locale=p.locale, advertising=True,
            ref_code=None, partner_name=None, email=c.email_key, name=c.display_name,
            anonymized=c.anonymized_at is not None, application_status=None, job_title=None,
            job_external_id=None, reason_category=None, suppressed=False, partner_consent=False,
        ))
        listed[public_id] = [ListedJob(j, jobs[j].title, jobs[j].location) for j in p.job_ids]
    return rows, listed


def send_recontact(engine: Engine, settings: Settings, *, now: datetime | None = None,
                   clock: Callable[[], datetime] = utcnow, due_by: datetime | None = None,
                   backend: MailBackend | None = None, dry_run: bool = False,
                   planned: list[PlannedMail] | None = None) -> SendCounts:
    """Send `recontact` mails due by `due_by` through the outbox (same exactly-once machinery as notices),
    only inside the sending window of the real `clock` (or the fixed moment `now`).

    A dry run changes no state: it renders the mails `planned` would enqueue and hands them to the
    backend in dry-run mode, like `send-rejections --dry-run`.
    """
    if dry_run:
        with Session(engine) as session:
            rows, previews = preview_rows(session, planned or [])
        renderer = RecontactRenderer(settings, engine, previews=previews)
        sender = OutboxSender(engine, settings, backend=backend, renderer=renderer, now=now, clock=clock,
                              due_by=due_by, kinds=(RECONTACT_KIND,))
        try:
            sender.preview_rows(rows)
        finally:
            if backend is None:
                sender.backend.close()
        return sender.counts
    with Session(engine) as session:
        swept = sweep(session, (RECONTACT_KIND,), now or clock(), settings)
        session.commit()
    sender = OutboxSender(engine, settings, backend=backend, renderer=RecontactRenderer(settings, engine),
                          now=now, clock=clock, due_by=due_by, kinds=(RECONTACT_KIND,))
    counts = sender.run()
    counts.add_stopped(swept)
    return counts
