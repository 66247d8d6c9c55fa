"""The one small protocol every ATS adapter implements, and the records it yields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from junkan.ats.errors import AtsError
from junkan.unparsed import Unparsed

ApplicationStatus = Literal["in_process", "hired", "rejected", "withdrawn"]
STATUSES: tuple[str, ...] = ("in_process", "hired", "rejected", "withdrawn")


@dataclass(frozen=True, slots=True)
class JobRecord:
    external_id: str
    title: str
    status: str  # open | closed | draft
    department: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    #: What the matcher reads (docs/pool.md): the posting text, the skills as the source spells them
    #: (必須 / 歓迎), and the work location.
    description: str | None = None
    required_skills: tuple[str, ...] = ()
    preferred_skills: tuple[str, ...] = ()
    location: str | None = None


@dataclass(frozen=True, slots=True)
class OpeningRecord:
    external_id: str
    job_external_id: str
    status: str  # open | closed
    opened_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReasonRecord:
    external_id: str
    name: str
    # "rejected" (we rejected them), "withdrawn" (they declined) or "unspecified".
    kind: str = "rejected"


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """One application as the source reports it now. Values are parsed but not yet validated.

    `status` is the source's value mapped to ApplicationStatus where the adapter could map it; an
    unmappable value is passed through unchanged so that ingest can quarantine it with a reason.
    """

    external_id: str
    status: str
    email: str | None
    name: str | None = None
    phone: str | None = None
    candidate_external_id: str | None = None
    locale: str | None = None
    job_external_id: str | None = None
    job_title: str | None = None
    applied_at: datetime | None = None
    decided_at: datetime | None = None
    reason_external_id: str | None = None
    reason_text: str | None = None
    stage: str | None = None
    updated_at: datetime | None = None
    # Consent purposes the source recorded: talent_pool, partner_info, recontact -> granted?
    consents: dict[str, bool] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    #: Skills the source states for the person (a スキル column), and where they live or want to work.
    skills: tuple[str, ...] = ()
    location: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadRecord(Unparsed):
    """A record the adapter could not even parse; ingest quarantines it with this reason."""

    external_id: str | None = None


class SourceFileError(AtsError):
    """The source file cannot be read as a whole (missing, not a file, damaged, too large, no header).

    The message is one line: the file and the problem. It never quotes a cell, since cells hold
    personal data; rows and columns are named by number and header instead.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class AtsAdapter(Protocol):
    #: Stable name of the source, used for watermarks, quarantine and (source, external_id) keys.
    source: str

    def fetch_jobs(self) -> Iterator[JobRecord | BadRecord]:
        """Jobs; a spreadsheet's jobs sheet also yields a BadRecord (record_type job) per unreadable row."""
        ...

    def fetch_openings(self) -> Iterator[OpeningRecord]: ...

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]: ...

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        """Applications changed at or after `since` (all when None), streamed page by page."""
        ...

    def close(self) -> None: ...
