"""What a preview holds: counts and labels, plus one sample mail rendered for a placeholder person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from junkan.config import Settings


@dataclass(frozen=True, slots=True)
class PreviewDay:
    """The day looked at and the moment a run late that day judges by (the end of its sending window)."""

    session: Session
    settings: Settings
    day: date
    now: datetime
    business_day: bool


@dataclass(frozen=True, slots=True)
class Group:
    """A row of a section's table: e.g. template "ja/rejection", locale "ja", 12 mails, 3 with partner."""

    template: str
    locale: str
    count: int
    #: How many carry the partner block; None where a mail never has one (re-contact).
    partner: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One mail rendered through the real templates for a placeholder person (never a real one)."""

    template: str
    person: str
    subject: str
    text: str


@dataclass
class SectionPreview:
    name: str
    title: str
    #: Mails that would go out (or, for shortlists, lists that would be written).
    total: int = 0
    groups: list[Group] = field(default_factory=list)
    #: Further figures, e.g. {"suppressed": 2, "new_openings": 4}.
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sample: Sample | None = None


@dataclass
class Preview:
    day: date
    business_day: bool
    sections: list[SectionPreview]
    #: Why the live send that day would be refused (junkan.mail.identity_guard), one line per setting.
    refused: list[str] = field(default_factory=list)
