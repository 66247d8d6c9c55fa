"""What a person chose on their own page 「今後のご案内の設定」 (docs/privacy.md "The preference page").

Stored like consent: append-only rows with their source and the wording version shown, the newest per
person counts, and a later save can change everything again while the history stays. The page
(junkan/web/preference_page.py) and the demo write through `record_preferences`; the matcher reads
through `latest_preferences`, and the reports count the page from the tables themselves
(sql/reports/preference_page.sql), in one place.

The consents the page changes are ordinary consent records with source `preference_page`, written beside
the preferences by `save_choices` (the page's save, and the demo's visits through the same path):
`partner_info` as answered, `talent_pool` granted (stay, join or renew) or withdrawn (leave), and
`recontact` withdrawn for "never" or granted for a timing. A consent is recorded only when the answer
changes its current state (or renews the pool), so saving the page again does not silently extend a grant.

Mapping skills text to canonical skills needs the thesaurus (junkan.pool), which is above this package:
the caller maps and hands in both the text as typed and the skills it found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.consent.state import latest_by_candidate
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.db.models import Consent
from junkan.db.models_preferences import CandidatePreference, PreferenceVisit

__all__ = [
    "PAGE_SOURCE",
    "TIMINGS",
    "ConsentChoices",
    "Preferences",
    "Saved",
    "StoredPreferences",
    "latest_preferences",
    "record_preferences",
    "record_visit",
    "save_choices",
]

#: Months after which the person wants to hear again; "never" is `Preferences.never`.
TIMINGS = (3, 6, 12)
#: Source of every record the page writes (consent records included).
PAGE_SOURCE = "preference_page"
#: IN-list size: well below SQLite's bound-parameter limit.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Preferences:
    """One save of the page. Refuses a timing outside TIMINGS, and a timing beside "never"."""

    #: Occupation family codes (keys of junkan/pool/vocabulary/occupations.yaml), checked by the caller.
    families: tuple[str, ...] = ()
    #: Free text as typed ("" if none).
    other_interest: str = ""
    #: Prefecture or city names as chosen.
    locations: tuple[str, ...] = ()
    #: Remote work wanted; None = no preference.
    remote: bool | None = None
    #: 3, 6 or 12; None when never or no choice (the default cooldown applies).
    timing_months: int | None = None
    #: "Never write to me about openings again."
    never: bool = False
    #: Skills and qualifications as typed.
    skills_text: str = ""
    #: Canonical skill keys the caller's thesaurus found in `skills_text`.
    skills: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.timing_months is not None and self.timing_months not in TIMINGS:
            raise ValueError(f"timing must be one of {TIMINGS} months, got {self.timing_months}")
        if self.never and self.timing_months is not None:
            raise ValueError("a timing was given together with 'never'")

    @property
    def timing_key(self) -> str:
        """"3", "6", "12", "never" or "none": the report's buckets."""
        if self.never:
            return "never"
        return "none" if self.timing_months is None else str(self.timing_months)


@dataclass(frozen=True, slots=True)
class StoredPreferences:
    candidate_id: int
    preferences: Preferences
    #: UTC.
    recorded_at: datetime
    source: str
    wording_version: str


def record_preferences(conn: Connection | Session, candidate_id: int, preferences: Preferences, *,
                       at: datetime, wording_version: str, source: str = PAGE_SOURCE) -> None:
    """Add one save; the newest save of a person is the one that counts."""
    p = preferences
    conn.execute(insert(CandidatePreference).values(
        candidate_id=candidate_id, families=list(p.families), other_interest=p.other_interest,
        locations=list(p.locations), remote=p.remote, timing_months=p.timing_months, never=p.never,
        skills_text=p.skills_text, skills=list(p.skills), source=source, wording_version=wording_version,
        recorded_at=at))


def record_visit(conn: Connection | Session, candidate_id: int, *, at: datetime) -> None:
    """The page was opened with a valid link (the GET records this and nothing else)."""
    conn.execute(insert(PreferenceVisit).values(candidate_id=candidate_id, visited_at=at))


_P = CandidatePreference
_COLUMNS = (_P.candidate_id, _P.families, _P.other_interest, _P.locations, _P.remote, _P.timing_months,
            _P.never, _P.skills_text, _P.skills, _P.recorded_at, _P.source, _P.wording_version)
# Oldest first: the last row read per candidate is the newest one.
_OLDEST_FIRST = (_P.candidate_id, _P.recorded_at, _P.id)


def latest_preferences(conn: Connection | Session, candidate_ids: Sequence[int] | None = None, *,
                       at: datetime | None = None) -> dict[int, StoredPreferences]:
    """The newest save per candidate (those who never saved are absent): one ordered scan, or one query
    per chunk of `candidate_ids`. With `at`, the newest save made by then: a run for a past day must not
    see choices made after it."""
    base = select(*_COLUMNS) if at is None else select(*_COLUMNS).where(CandidatePreference.recorded_at <= at)
    queries = ([base.order_by(*_OLDEST_FIRST)] if candidate_ids is None else
               [base.where(CandidatePreference.candidate_id.in_(batch)).order_by(*_OLDEST_FIRST)
                for batch in batched(sorted(set(candidate_ids)), CHUNK)])
    found: dict[int, StoredPreferences] = {}
    for query in queries:
        for row in conn.execute(query):
            found[row.candidate_id] = StoredPreferences(
                candidate_id=row.candidate_id,
                preferences=Preferences(
                    families=tuple(row.families or ()), other_interest=row.other_interest,
                    locations=tuple(row.locations or ()), remote=row.remote,
                    timing_months=row.timing_months, never=bool(row.never), skills_text=row.skills_text,
                    skills=tuple(row.skills or ())),
                recorded_at=row.recorded_at, source=row.source, wording_version=row.wording_version)
    return found


@dataclass(frozen=True, slots=True)
class ConsentChoices:
    """The page's consent answers; None = not answered (nothing is recorded)."""

    #: Receive the career-support partner's information.
    partner_info: bool | None = None
    #: Stay in (or join) the talent pool: True; leave it: False.
    talent_pool: bool | None = None
    #: Renew the pool registration from today (only with talent_pool=True).
    renew_pool: bool = False


@dataclass(frozen=True, slots=True)
class Saved:
    #: Purposes whose consent this save recorded, e.g. ("partner_info", "talent_pool").
    consents: tuple[str, ...]
    #: Whether the person is in the pool after the save, and until when (None = no expiry or not in it).
    in_pool: bool
    pool_until: datetime | None


def save_choices(session: Session, candidate_id: int, preferences: Preferences, consents: ConsentChoices, *,
                 at: datetime, settings: ConsentSettings, wording_version: str = PREFERENCE_WORDING_VERSION,
                 source: str = PAGE_SOURCE) -> Saved:
    """One save of the page: the preferences, and the consents whose answer changes their state."""
    record_preferences(session, candidate_id, preferences, at=at, wording_version=wording_version,
                       source=source)
    conn = session.connection()
    current = {purpose: latest_by_candidate(conn, purpose, at, [candidate_id]).get(candidate_id)
               for purpose in ("partner_info", "talent_pool", "recontact")}

    def granted(purpose: str) -> bool | None:
        state = current[purpose]
        return None if state is None else state.granted

    wanted: dict[str, bool] = {}
    if consents.partner_info is not None and granted("partner_info") is not consents.partner_info:
        wanted["partner_info"] = consents.partner_info
    if consents.talent_pool is False and granted("talent_pool") is not False:
        wanted["talent_pool"] = False
    elif consents.talent_pool and (consents.renew_pool or granted("talent_pool") is not True):
        wanted["talent_pool"] = True
    if preferences.never and granted("recontact") is not False:
        wanted["recontact"] = False
    elif preferences.timing_months is not None and granted("recontact") is not True:
        wanted["recontact"] = True
    for purpose, grant in wanted.items():
        session.add(Consent(candidate_id=candidate_id, purpose=purpose, granted=grant, recorded_at=at,
                            source=source, wording_version=wording_version,
                            expires_at=expires_at(purpose, grant, at, settings)))
    session.flush()
    pool = current["talent_pool"]
    if "talent_pool" in wanted:
        in_pool = wanted["talent_pool"]
        until = expires_at("talent_pool", True, at, settings) if in_pool else None
    else:
        in_pool = pool is not None and pool.granted
        until = pool.expires_at if pool is not None and pool.granted else None
    return Saved(consents=tuple(wanted), in_pool=in_pool, pool_until=until)
