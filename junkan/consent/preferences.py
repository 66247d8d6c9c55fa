"""What a person chose on their own page 「今後のご案内の設定」 (docs/privacy.md "The preference page").

Stored like consent: append-only rows with their source and the wording version shown, the newest per
person counts, and a later save can change everything again while the history stays. The page
(junkan/web/preference_page.py) and the demo write through `record_preferences`; the matcher and the
reports read through `latest_preferences` and `preference_counts`.

The consents the page changes (`partner_info`, leaving the pool = withdrawing `talent_pool`) are ordinary
consent records, written beside these by the page's save.

Mapping skills text to canonical skills needs the thesaurus (junkan.pool), which is above this package:
the caller maps and hands in both the text as typed and the skills it found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, distinct, func, insert, select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.models_preferences import CandidatePreference, PreferenceVisit

__all__ = [
    "PAGE_SOURCE",
    "TIMINGS",
    "PreferenceCounts",
    "Preferences",
    "StoredPreferences",
    "latest_preferences",
    "preference_counts",
    "record_preferences",
    "record_visit",
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


@dataclass(frozen=True, slots=True)
class PreferenceCounts:
    """The page in one period, for the reports."""

    #: Distinct people who opened the page.
    visits: int
    #: Distinct people who saved choices.
    saved: int
    #: Of those who saved, their newest choice as of the period's end: {"3", "6", "12", "never", "none"}.
    timings: Mapping[str, int]


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


def latest_preferences(conn: Connection | Session, candidate_ids: Sequence[int] | None = None
                       ) -> dict[int, StoredPreferences]:
    """The newest save per candidate (those who never saved are absent): one ordered scan, or one query
    per chunk of `candidate_ids`."""
    queries = ([select(*_COLUMNS).order_by(*_OLDEST_FIRST)] if candidate_ids is None else
               [select(*_COLUMNS).where(CandidatePreference.candidate_id.in_(batch)).order_by(*_OLDEST_FIRST)
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


def preference_counts(conn: Connection | Session, start: datetime, end: datetime) -> PreferenceCounts:
    """Visits and saves in [start, end), and the spread of the savers' newest timing as of `end`."""
    visits = conn.execute(select(func.count(distinct(PreferenceVisit.candidate_id))).where(
        PreferenceVisit.visited_at >= start, PreferenceVisit.visited_at < end)).scalar_one()
    savers = select(CandidatePreference.candidate_id).where(
        CandidatePreference.recorded_at >= start, CandidatePreference.recorded_at < end).distinct()
    timings = {key: 0 for key in ("3", "6", "12", "never", "none")}
    newest: dict[int, str] = {}
    for row in conn.execute(
            select(_P.candidate_id, _P.never, _P.timing_months)
            .where(_P.candidate_id.in_(savers), _P.recorded_at < end)
            .order_by(*_OLDEST_FIRST)):
        newest[row.candidate_id] = "never" if row.never else (
            "none" if row.timing_months is None else str(row.timing_months))
    for key in newest.values():
        timings[key] += 1
    return PreferenceCounts(visits=int(visits), saved=len(newest), timings=timings)
