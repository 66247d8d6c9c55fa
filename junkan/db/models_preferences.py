"""The candidate's own page (docs/privacy.md "The preference page"): what a person chose, when they
opened the page, and the copies of their data they asked for there. All are person tables: exported and
erased with the person (junkan/privacy/tables.py).

Append-only, like `consent`: a later save adds a row and the newest one counts
(junkan/consent/preferences.py), so the history of a person's choices stays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow


class CandidatePreference(Base):
    """One save of the preference page: the kinds of work, places, timing and skills the person chose."""

    __tablename__ = "candidate_preference"
    __table_args__ = (
        CheckConstraint("timing_months IN (3, 6, 12)", name="timing_months"),
        CheckConstraint("NOT (never AND timing_months IS NOT NULL)", name="never_has_no_timing"),
        Index("ix_candidate_preference_candidate", "candidate_id", "recorded_at"),
        Index("ix_candidate_preference_recorded", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    #: Occupation family codes (keys of junkan/pool/vocabulary/occupations.yaml).
    families: Mapped[list[str]] = mapped_column(JsonType)
    #: "Anything else", as the person typed it.
    other_interest: Mapped[str] = mapped_column(Text)
    #: Places as chosen (prefecture or city names).
    locations: Mapped[list[str]] = mapped_column(JsonType)
    #: Remote work wanted; NULL = no preference.
    remote: Mapped[bool | None] = mapped_column(Boolean)
    #: Hear again in 3, 6 or 12 months; NULL = never, or no choice (the default cooldown).
    timing_months: Mapped[int | None] = mapped_column(Integer)
    #: "Never write to me about openings again."
    never: Mapped[bool] = mapped_column(Boolean)
    #: Skills and qualifications as typed, and the canonical skills the thesaurus found in them.
    skills_text: Mapped[str] = mapped_column(Text)
    skills: Mapped[list[str]] = mapped_column(JsonType)
    #: "preference_page" (the demo's visits go through the same code path).
    source: Mapped[str] = mapped_column(String(64))
    wording_version: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PreferenceVisit(Base):
    """The page was opened (a GET with a valid link): for the report's count of visits."""

    __tablename__ = "preference_visit"
    __table_args__ = (
        Index("ix_preference_visit_candidate", "candidate_id", "visited_at"),
        Index("ix_preference_visit_visited", "visited_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    visited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DataCopyRequest(Base):
    """A person asked on their page for a copy of their data. Junkan has no mail path that sends an
    export, so the request waits for the operator: `junkan privacy copy-requests` lists the open ones,
    the operator sends the `junkan privacy export` file to the address on file, then marks it done."""

    __tablename__ = "data_copy_request"
    __table_args__ = (
        Index("ix_data_copy_request_open", "done_at", "requested_at"),
        # One open request per person, whatever the timing of two POSTs (migration 0020_copy_request_once).
        Index("ix_data_copy_request_one_open", "candidate_id", unique=True,
              postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: "preference_page".
    source: Mapped[str] = mapped_column(String(64))
    #: When the operator marked it sent; NULL = still open.
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
