"""May we send this person this kind of mail now? One answer, asked at enqueue and again just before sending.

Every condition a kind of mail depends on is read here in bulk (a handful of queries per 1,000 people,
never one per message) and judged in one place (docs/privacy.md "The send gate"). A mail is stopped when:
- every kind: the address is on the suppression list (→ `suppressed`); the candidate is anonymised or
  erased; there is no usable address; `all_mail` is withdrawn;
- `rejection`, `withdrawal`: the application is no longer rejected / withdrawn (un-reject, hire). The
  partner section needs a current `partner_info` grant (and `partner_section` not `off`); without one the
  notice still goes, without the section;
- `recontact`: no current `recontact` grant; no current `talent_pool` grant (lapsed, withdrawn or never
  given: pool membership has ended); hired since the rejection the mail is about; applied since (back in
  a selection, or applied after the mail was queued);
- `consent_renewal`: `recontact` withdrawn (opted out of advertising); the current `talent_pool` grant no
  longer lapses within `renewal_days_before` days (renewed, withdrawn, or already lapsed);
- `report` (the monthly report to internal recipients, no candidate): the recipient is no longer in
  `report.recipients`, or the address is on the suppression list. No consent is asked: the mail goes to
  the employer's own staff and holds aggregate figures only.

"Current" is junkan/consent/state.py: the newest record that has not expired, so a grant that lapses
between enqueue and send stops the mail. The enqueue steps plan with `judge`; the sender calls
`gate_rows` on each claimed chunk just before marking it `sending`; the re-contact and renewal runs
`sweep` their pending mails first. A stopped mail keeps the reason in `cancelled_reason`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.config import Settings
from junkan.consent.renewal import RENEWAL_KIND
from junkan.consent.state import ConsentState, latest_by_candidate
from junkan.consent.suppressed import suppressed_among
from junkan.db.models import INTERNAL_REPORT_KIND, Application, Candidate, Message, MessageState
from junkan.keyed import email_hash
from junkan.mail.templates import partner_section_allowed
from junkan.outbox.transitions import cancel_ids

if TYPE_CHECKING:
    from junkan.outbox.render import NoticeRow

#: Application status -> notice kind. The logical key is "application:<id>:<kind>".
KIND_BY_STATUS: dict[str, str] = {"rejected": "rejection", "withdrawn": "withdrawal"}
STATUS_BY_KIND: dict[str, str] = {v: k for k, v in KIND_BY_STATUS.items()}
NOTICE_KINDS: tuple[str, ...] = tuple(KIND_BY_STATUS.values())
RECONTACT_KIND = "recontact"
#: The monthly report mailed to internal recipients (junkan/outbox/report_mail.py).
REPORT_KIND = INTERNAL_REPORT_KIND
ALL_MAIL = "all_mail"

_CHUNK = 1000


class Reason(StrEnum):
    """Why a mail may not go; stored in `message.cancelled_reason` and counted by the runs."""

    SUPPRESSED = "suppression list"
    ANONYMISED = "candidate_anonymised"
    NO_ADDRESS = "no_address"
    ALL_MAIL_WITHDRAWN = "all_mail_withdrawn"
    STATUS_CHANGED = "application_status_changed"
    NO_RECONTACT_CONSENT = "recontact_consent_missing"
    NO_TALENT_POOL_CONSENT = "talent_pool_consent_missing"
    RECONTACT_WITHDRAWN = "recontact_withdrawn"
    HIRED_SINCE = "hired_since"
    APPLIED_SINCE = "applied_since"
    RENEWAL_NOT_NEEDED = "renewal_not_needed"
    RECIPIENT_REMOVED = "recipient_not_configured"


#: Reasons that mean a consent the kind depends on is not current (the `no_consent` count).
CONSENT_REASONS = frozenset({Reason.ALL_MAIL_WITHDRAWN, Reason.NO_RECONTACT_CONSENT,
                             Reason.NO_TALENT_POOL_CONSENT, Reason.RECONTACT_WITHDRAWN})


@dataclass(frozen=True, slots=True)
class Subject:
    """One mail to judge: whose, which kind, about which application, queued when (None at enqueue).
    Internal mail has no candidate, only the keyed hash of its configured recipient."""

    candidate_id: int | None
    kind: str
    application_id: int | None = None
    queued_at: datetime | None = None
    recipient_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: Reason | None = None
    #: Notices: the partner section may be included (a current `partner_info` grant, policy not `off`).
    partner: bool = False

    @property
    def allowed(self) -> bool:
        return self.reason is None

    @property
    def state(self) -> MessageState:
        """The state a mail with this verdict takes: pending, suppressed or cancelled."""
        if self.reason is None:
            return MessageState.PENDING
        return MessageState.SUPPRESSED if self.reason is Reason.SUPPRESSED else MessageState.CANCELLED


@dataclass(frozen=True, slots=True)
class _App:
    id: int
    status: str
    applied_at: datetime | None
    decided_at: datetime | None


@dataclass
class _Facts:
    """What the gate read about a chunk of people. Holds addresses: never log it."""

    email: dict[int, str | None]
    anonymised: set[int]
    suppressed: set[int]
    consents: dict[str, dict[int, ConsentState]]
    apps: dict[int, list[_App]]
    #: Internal mail: the keyed hashes of the configured recipients, and those of them suppressed.
    recipients: set[str]
    suppressed_recipients: set[str]


def _purposes(kinds: set[str]) -> list[str]:
    purposes = [ALL_MAIL]
    if kinds & set(NOTICE_KINDS):
        purposes.append("partner_info")
    if kinds & {RECONTACT_KIND, RENEWAL_KIND}:
        purposes += ["recontact", "talent_pool"]
    return purposes


def report_recipients(key: bytes, settings: Settings) -> dict[str, str]:
    """{keyed hash: address} of `report.recipients`: a report mail's row holds only the hash, read back here
    by the gate, the enqueue and the renderer alike."""
    return {email_hash(key, a): a for a in settings.report.recipients}


def _read(session: Session, subjects: Sequence[Subject], now: datetime, key: bytes,
          settings: Settings) -> _Facts:
    ids = sorted({s.candidate_id for s in subjects if s.candidate_id is not None})
    kinds = {s.kind for s in subjects}
    purposes = _purposes(kinds)
    email: dict[int, str | None] = {}
    anonymised: set[int] = set()
    hit: set[str] = set()
    consents: dict[str, dict[int, ConsentState]] = {p: {} for p in purposes}
    apps: dict[int, list[_App]] = {}
    if ids:  # a chunk of report mail only has no candidate to read
        people = session.execute(
            select(Candidate.id, Candidate.email_key, Candidate.anonymized_at).where(Candidate.id.in_(ids))
        ).all()
        email = {r.id: r.email_key for r in people}
        anonymised = {r.id for r in people if r.anonymized_at is not None}
        hit = suppressed_among(session, (e for e in email.values() if e), key)
        conn = session.connection()
        consents = {p: latest_by_candidate(conn, p, now, ids) for p in purposes}
        if kinds & {*NOTICE_KINDS, RECONTACT_KIND}:
            for r in session.execute(
                select(Application.candidate_id, Application.id, Application.status, Application.applied_at,
                       Application.decided_at).where(Application.candidate_id.in_(ids))
            ):
                apps.setdefault(r.candidate_id, []).append(_App(r.id, r.status, r.applied_at, r.decided_at))
    recipients = report_recipients(key, settings) if REPORT_KIND in kinds else {}
    stopped = suppressed_among(session, recipients.values(), key) if recipients else set()
    return _Facts(email=email, anonymised=anonymised,
                  suppressed={cid for cid, e in email.items() if e and e in hit},
                  consents=consents, apps=apps, recipients=set(recipients),
                  suppressed_recipients={h for h, a in recipients.items() if a in stopped})


def _granted(facts: _Facts, purpose: str, candidate_id: int) -> bool:
    state = facts.consents[purpose].get(candidate_id)
    return state is not None and state.granted


def _withdrawn(facts: _Facts, purpose: str, candidate_id: int) -> bool:
    state = facts.consents[purpose].get(candidate_id)
    return state is not None and not state.granted


def _recontact_reason(s: Subject, cid: int, facts: _Facts) -> Reason | None:
    if not _granted(facts, "recontact", cid):
        return Reason.NO_RECONTACT_CONSENT
    if not _granted(facts, "talent_pool", cid):
        return Reason.NO_TALENT_POOL_CONSENT
    apps = facts.apps.get(cid, [])
    base = next((a for a in apps if a.id == s.application_id), None)
    since = base.decided_at if base is not None else None
    for a in apps:
        when = a.decided_at or a.applied_at
        if a.status == "hired" and (a.id == s.application_id or since is None
                                    or (when is not None and when >= since)):
            return Reason.HIRED_SINCE
    for a in apps:
        if a.status == "in_process" or (s.queued_at is not None and a.id != s.application_id
                                        and a.applied_at is not None and a.applied_at > s.queued_at):
            return Reason.APPLIED_SINCE
    return None


def _renewal_reason(cid: int, facts: _Facts, now: datetime, settings: Settings) -> Reason | None:
    if _withdrawn(facts, "recontact", cid):
        return Reason.RECONTACT_WITHDRAWN
    pool = facts.consents["talent_pool"].get(cid)
    horizon = now + timedelta(days=settings.consent.renewal_days_before)
    if pool is None or not pool.granted or pool.expires_at is None or pool.expires_at > horizon:
        return Reason.RENEWAL_NOT_NEEDED
    return None


def _report_reason(s: Subject, facts: _Facts) -> Reason | None:
    if s.recipient_hash not in facts.recipients:
        return Reason.RECIPIENT_REMOVED
    if s.recipient_hash in facts.suppressed_recipients:
        return Reason.SUPPRESSED
    return None


def _judge_one(s: Subject, facts: _Facts, now: datetime, settings: Settings) -> Verdict:
    if s.kind == REPORT_KIND:
        return Verdict(_report_reason(s, facts))
    cid = s.candidate_id
    if cid is None:
        raise ValueError(f"a {s.kind!r} mail needs a candidate")
    if cid in facts.anonymised:
        return Verdict(Reason.ANONYMISED)
    if not facts.email.get(cid):
        return Verdict(Reason.NO_ADDRESS)
    if cid in facts.suppressed:
        return Verdict(Reason.SUPPRESSED)
    if _withdrawn(facts, ALL_MAIL, cid):
        return Verdict(Reason.ALL_MAIL_WITHDRAWN)
    if s.kind in NOTICE_KINDS:
        status = next((a.status for a in facts.apps.get(cid, []) if a.id == s.application_id), None)
        if status != STATUS_BY_KIND[s.kind]:
            return Verdict(Reason.STATUS_CHANGED)
        consents = {"partner_info"} if _granted(facts, "partner_info", cid) else set()
        return Verdict(partner=partner_section_allowed(consents, settings.notice))
    if s.kind == RECONTACT_KIND:
        return Verdict(_recontact_reason(s, cid, facts))
    if s.kind == RENEWAL_KIND:
        return Verdict(_renewal_reason(cid, facts, now, settings))
    raise ValueError(f"the send gate knows no mail kind {s.kind!r}")


def judge(session: Session, subjects: Sequence[Subject], now: datetime, settings: Settings) -> list[Verdict]:
    """The verdict for each subject, in order, as of `now`. Read-only; bulk reads per 1,000 subjects."""
    out: list[Verdict] = []
    key = settings.retention.key_bytes()
    for part in batched(list(subjects), _CHUNK):
        facts = _read(session, part, now, key, settings)
        out.extend(_judge_one(s, facts, now, settings) for s in part)
    return out


def _subjects(session: Session, message_ids: Iterable[int]) -> dict[int, Subject]:
    out: dict[int, Subject] = {}
    for part in batched(sorted(set(message_ids)), _CHUNK):
        for r in session.execute(
            select(Message.id, Message.candidate_id, Message.kind, Message.application_id, Message.created_at,
                   Message.recipient_hash)
            .where(Message.id.in_(part))
        ):
            out[r.id] = Subject(r.candidate_id, r.kind, r.application_id, r.created_at, r.recipient_hash)
    return out


def judge_messages(session: Session, message_ids: Iterable[int], now: datetime,
                   settings: Settings) -> dict[int, Verdict]:
    """The verdict for each stored message, by id."""
    subjects = _subjects(session, message_ids)
    ids = list(subjects)
    return dict(zip(ids, judge(session, [subjects[i] for i in ids], now, settings), strict=True))


@dataclass
class GateResult:
    """A claimed chunk after the send-time gate: what may go (partner section dropped where it lapsed)
    and what may not, as (row, new state, reason) for the sender's single write."""

    sendable: list[NoticeRow]
    blocked: list[tuple[NoticeRow, str, str]]
    reasons: Counter[str]
    partner_dropped: int


def gate_rows(session: Session, rows: Sequence[NoticeRow], now: datetime, settings: Settings) -> GateResult:
    """The send-time gate over claimed rows (stored messages: `message_id` set)."""
    verdicts = judge_messages(session, [r.message_id for r in rows if r.message_id is not None], now,
                              settings)
    result = GateResult([], [], Counter(), 0)
    for row in rows:
        verdict = verdicts.get(row.message_id) if row.message_id is not None else None
        if verdict is None:  # the row vanished (erased meanwhile): nothing to send it to
            verdict = Verdict(Reason.ANONYMISED)
        if verdict.reason is not None:
            result.blocked.append((row, verdict.state, verdict.reason))
            result.reasons[verdict.reason] += 1
            continue
        if row.kind in NOTICE_KINDS and row.advertising and not verdict.partner:
            row = replace(row, advertising=False, ref_code=None, partner_name=None)
            result.partner_dropped += 1
        result.sendable.append(row)
    return result


def sweep(session: Session, kinds: Sequence[str], now: datetime, settings: Settings) -> Counter[str]:
    """Cancel (or suppress) the pending mails of `kinds`, due or not, that the gate stops now; the count
    per reason. The caller commits."""
    pending = session.scalars(
        select(Message.id).where(Message.state == MessageState.PENDING, Message.kind.in_(list(kinds)))
        .order_by(Message.id)
    ).all()
    by_outcome: dict[tuple[MessageState, Reason], list[int]] = {}
    for mid, verdict in judge_messages(session, pending, now, settings).items():
        if verdict.reason is not None:
            by_outcome.setdefault((verdict.state, verdict.reason), []).append(mid)
    done: Counter[str] = Counter()
    for (state, reason), ids in sorted(by_outcome.items()):
        done[reason] += cancel_ids(session, ids, reason=reason, now=now, state=state)
    return done
