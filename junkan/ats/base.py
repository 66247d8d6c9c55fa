"""What every ATS source shares: the one small protocol each adapter implements, the records it yields, the
errors of a source that cannot be read at all, and the checks every spreadsheet file passes before a byte of
it is parsed (with the rows the CSV and XLSX readers hand the spreadsheet adapter).

HTTP failures of the API adapters are `junkan.http.HttpError`, like those of every other vendor.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from junkan.unparsed import Unparsed


class AtsError(RuntimeError):
    """The source is unusable as configured or as exported; the message names the file or the setting."""



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


# The checks every spreadsheet source passes before a byte of it is parsed.
#
# A path set by hand can point anywhere: a directory gives a raw IsADirectoryError, and a device such as
# /dev/zero never ends, so reading one would hang the run. Only a non-empty regular file is read.

#: The first bytes of the formats people save by mistake under a spreadsheet's name.
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_source_file(path: Path) -> int:
    """The file's size; SourceFileError unless `path` is a readable, non-empty regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceFileError(path, "import file not found") from None
    except PermissionError:
        raise SourceFileError(path, "the file cannot be read (permission denied)") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceFileError(path, "is a directory, not a file; point JUNKAN_ATS__PATH at the export itself")
    if not stat.S_ISREG(info.st_mode):
        raise SourceFileError(path, "is not a regular file (a device, pipe or socket); only files are read")
    if info.st_size == 0:
        raise SourceFileError(path, "the file is empty (0 bytes)")
    return info.st_size


def read_head(path: Path, size: int = 8) -> bytes:
    """The first `size` bytes, for telling formats apart; a failure to open is one clear line."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: OSError) -> SourceFileError:
    return SourceFileError(path, f"the file cannot be read ({exc.strerror or type(exc).__name__})")


# What the CSV and XLSX readers hand the spreadsheet adapter: rows of cells, or a row they could not read.

#: The largest cell kept, in characters: the csv module's own field limit. Excel itself stops at 32,767,
#: so anything longer is a paste gone wrong (or an attack on memory); its row is quarantined.
MAX_CELL_CHARS = 131_072


@dataclass(frozen=True, slots=True)
class UnreadableRow:
    """One row the reader could not take apart; the adapter quarantines it and goes on.

    `problem` says what is wrong without quoting any cell ("a cell is larger than …"); `column` is the
    0-based position of the cell at fault when known; `cells` holds what could be read (may be empty).
    """

    problem: str
    column: int | None = None
    cells: list[Any] = field(default_factory=list)
    #: First and last physical line of a CSV record (a quoted cell may span several lines).
    lines: tuple[int, int] | None = None
