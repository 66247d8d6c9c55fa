"""Jobs, openings and rejection reasons: synced from the adapter's reference data once per run, and
resolved to ids for each batch of applications (creating a row when an application names one the
reference data did not list, e.g. a CSV that only carries 求人 and 不採用理由 as text).

Only rows whose content differs are written, so a re-run leaves `updated_at` untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from junkan.ats.base import AtsAdapter, BadRecord, JobRecord, OpeningRecord, ReasonRecord
from junkan.db.models import Job, JobTitleHistory, Opening, RejectionReason
from junkan.db.types import string_length
from junkan.identity import normalize_text
from junkan.ingest.quarantine import upsert_quarantine
from junkan.ingest.reasons import ReasonMapping, fold
from junkan.ingest.upsert import insert_missing, upsert
from junkan.ingest.validate import QuarantineEntry, ValidApplication, _aware, jsonable, quarantine_bad
from junkan.plausibility import DateBounds, control_character, storable

J = Job.__table__
JT = JobTitleHistory.__table__
O = Opening.__table__  # noqa: E741
R = RejectionReason.__table__
#: A job, opening or rejection reason as the adapter gives it.
Rec = TypeVar("Rec", JobRecord, OpeningRecord, ReasonRecord)

JOB_ID_LEN = string_length(J.c.external_id)
JOB_TITLE_LEN = string_length(J.c.title)
JOB_DEPT_LEN = string_length(J.c.department)
JOB_LOCATION_LEN = string_length(J.c.location)
#: The matcher reads the start of a posting (recontact.text_max_chars); a pasted novel is cut here.
JOB_DESCRIPTION_LEN = 20_000
#: Skills kept per job and per list, each at most this long: a list is a handful of keywords.
MAX_SKILLS = 50
SKILL_LEN = 100
STATUS_LEN = string_length(J.c.status)
REASON_ID_LEN = string_length(R.c.external_id)
REASON_NAME_LEN = string_length(R.c.name)
#: How far ahead a job's opening or closing date may lie: a posting planned for next year is real, one
#: opening in 9999 is a typo or a "no end" sentinel, and either would sort first in every list.
JOB_DATE_HORIZON = timedelta(days=5 * 366)
#: Job texts with a column width: longer ones are quarantined, never cut (docs/ingest.md).
JOB_TEXT_LIMITS = {"title": JOB_TITLE_LEN, "department": JOB_DEPT_LEN, "location": JOB_LOCATION_LEN}
#: Status of a job that only appears in applications (no reference data): not known to be open.
PLACEHOLDER_JOB_STATUS = "unknown"
REASON_KINDS = ("rejected", "withdrawn", "unspecified", "hired")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _derived_key(prefix: str, text: str, limit: int) -> str:
    """A stable key for something that only has a name; hashed when the name is too long to be a key."""
    key = f"{prefix}{fold(text)}"
    if len(key) <= limit:
        return key
    return f"{prefix}#{hashlib.sha256(fold(text).encode('utf-8')).hexdigest()[:40]}"


def job_key(item: ValidApplication) -> str | None:
    if item.job_external_id:
        return item.job_external_id
    if item.job_title:
        return _derived_key("title:", item.job_title, JOB_ID_LEN)
    return None


def reason_key(item: ValidApplication) -> str | None:
    if item.reason_external_id:
        return item.reason_external_id
    if item.reason_text:
        return _derived_key(f"text:{reason_kind_for(item.status)}:", item.reason_text, REASON_ID_LEN)
    return None


def reason_kind_for(status: str) -> str:
    return "withdrawn" if status == "withdrawn" else "rejected"


@dataclass(slots=True)
class ReferenceCounts:
    jobs_written: int = 0
    openings_written: int = 0
    reasons_written: int = 0
    quarantined: int = 0


class ReferenceData:
    """Per-run cache of `external_id -> id` for the source's jobs and reasons (a few thousand at most)."""

    def __init__(self, source: str, mapping: ReasonMapping, clock: Callable[[], datetime]) -> None:
        self.source = source
        self.mapping = mapping
        self.clock = clock
        self.jobs: dict[str, int] = {}
        self.reasons: dict[str, int] = {}

    # -- once per run -----------------------------------------------------------------------------

    def load(self, conn: Connection) -> None:
        """Read the stored ids only: for adapters whose reference data is synced after the applications."""
        self.jobs = self._load_ids(conn, J)
        self.reasons = self._load_ids(conn, R)

    def sync(self, conn: Connection, adapter: AtsAdapter) -> ReferenceCounts:
        counts = ReferenceCounts()
        bad: list[QuarantineEntry] = []
        counts.jobs_written = self._sync_jobs(conn, adapter.fetch_jobs(), bad)
        counts.openings_written = self._sync_openings(conn, adapter.fetch_openings(), bad)
        counts.reasons_written = self._sync_reasons(conn, adapter.fetch_rejection_reasons(), bad)
        counts.quarantined = upsert_quarantine(conn, self.source, bad, self.clock())
        return counts

    def _sync_jobs(self, conn: Connection, records: Iterable[JobRecord | BadRecord],
                   bad: list[QuarantineEntry]) -> int:
        wanted: dict[str, dict[str, Any]] = {}
        dates = DateBounds.around(self.clock(), UTC, JOB_DATE_HORIZON)
        for key, rec in _keyed(records, JOB_ID_LEN, "job", "job", bad):
            if (problem := job_problem(rec, dates)) is not None:
                bad.append(QuarantineEntry(reason=problem, raw=jsonable(_record_dict(rec)), external_id=key,
                                           record_type="job"))
                continue
            wanted[key] = {
                "title": _clip(normalize_text(rec.title) or key, JOB_TITLE_LEN),
                "department": _clip(d, JOB_DEPT_LEN) if (d := normalize_text(rec.department)) else None,
                "status": (normalize_text(rec.status) or "open").casefold()[:STATUS_LEN],
                "opened_at": _aware(rec.opened_at),
                "closed_at": _aware(rec.closed_at),
                "description": _description(rec.description),
                "required_skills": skill_list(rec.required_skills),
                "preferred_skills": skill_list(rec.preferred_skills),
                "location": _clip(loc, JOB_LOCATION_LEN) if (loc := normalize_text(rec.location)) else None,
            }
        columns = ("title", "department", "status", "opened_at", "closed_at", "description",
                   "required_skills", "preferred_skills", "location")
        stored = self._stored(conn, J, columns)
        written = self._write(conn, J, wanted, columns, stored)
        self._record_renames(conn, stored, wanted)
        self.jobs = self._load_ids(conn, J)
        return written

    def _record_renames(self, conn: Connection, stored: dict[str, Any],
                        wanted: dict[str, dict[str, Any]]) -> None:
        """Keep the title a job had before the source renamed it (once per job and title): the matcher
        learns from it that the old name is the same work (docs/pool.md "Vocabulary")."""
        now = self.clock()
        rows = [{"job_id": old.id, "title": old.title, "replaced_at": now}
                for key, values in wanted.items()
                if (old := stored.get(key)) is not None and old.title != values["title"]]
        insert_missing(conn, JT, rows, conflict=("job_id", "title"))

    def _sync_openings(self, conn: Connection, records: Iterable[OpeningRecord],
                       bad: list[QuarantineEntry]) -> int:
        wanted: dict[str, dict[str, Any]] = {}
        for key, rec in _keyed(records, JOB_ID_LEN, "opening", "opening", bad):
            wanted[key] = {
                "job_id": self.jobs.get(normalize_text(rec.job_external_id) or ""),
                "status": (normalize_text(rec.status) or "open").casefold()[:STATUS_LEN],
                "opened_at": _aware(rec.opened_at),
                "closed_at": _aware(rec.closed_at),
            }
        columns = ("job_id", "status", "opened_at", "closed_at")
        return self._write(conn, O, wanted, columns, self._stored(conn, O, columns))

    def _sync_reasons(self, conn: Connection, records: Iterable[ReasonRecord],
                      bad: list[QuarantineEntry]) -> int:
        wanted: dict[str, dict[str, Any]] = {}
        for key, rec in _keyed(records, REASON_ID_LEN, "rejection reason", "rejection_reason", bad):
            kind = rec.kind if rec.kind in REASON_KINDS else "unspecified"
            name = _clip(normalize_text(rec.name) or key, REASON_NAME_LEN)
            wanted[key] = self._reason_row(name, kind)
        # Reasons of this source that the adapter no longer lists (or that came from CSV text) are
        # re-classified too, so one mapping version applies to every reason of the source.
        existing = conn.execute(
            select(R.c.external_id, R.c.name, R.c.kind).where(R.c.source == self.source)
        ).all()
        for row in existing:
            if row.external_id not in wanted:
                wanted[row.external_id] = self._reason_row(row.name, row.kind)
        columns = ("name", "kind", "category", "pool_eligibility", "mapping_version")
        written = self._write(conn, R, wanted, columns, self._stored(conn, R, columns))
        self.reasons = self._load_ids(conn, R)
        return written

    def _reason_row(self, name: str, kind: str) -> dict[str, Any]:
        found = self.mapping.classify(name, kind)
        return {"name": name, "kind": kind, "category": found.category,
                "pool_eligibility": found.pool_eligibility, "mapping_version": found.mapping_version}

    def _stored(self, conn: Connection, table: Any, columns: tuple[str, ...]) -> dict[str, Any]:
        """The source's stored rows by external id: their id and `columns`."""
        query = select(table.c.external_id, table.c.id, *(table.c[c] for c in columns))
        return {row.external_id: row for row in conn.execute(query.where(table.c.source == self.source))}

    def _write(self, conn: Connection, table: Any, wanted: dict[str, dict[str, Any]],
               columns: tuple[str, ...], stored: dict[str, Any]) -> int:
        """Upsert the rows of `wanted` whose columns differ from what is `stored`."""
        if not wanted:
            return 0
        has_updated_at = "updated_at" in table.c
        now = self.clock()
        rows = []
        for key, values in wanted.items():
            old = stored.get(key)
            if old is not None and all(getattr(old, c) == values[c] for c in columns):
                continue
            row = {"source": self.source, "external_id": key, **values}
            if has_updated_at:
                row["updated_at"] = now
            rows.append(row)
        update_columns = [*columns, "updated_at"] if has_updated_at else list(columns)
        upsert(conn, table, rows, conflict=("source", "external_id"), update_columns=update_columns)
        return len(rows)

    def _load_ids(self, conn: Connection, table: Any) -> dict[str, int]:
        query = select(table.c.external_id, table.c.id).where(table.c.source == self.source)
        return {key: row_id for key, row_id in conn.execute(query).all()}

    # -- per batch --------------------------------------------------------------------------------

    def job_ids(self, conn: Connection, items: list[ValidApplication]) -> dict[str, int]:
        """`job_key -> id` for the batch, creating placeholder jobs for keys the source never listed."""
        missing: dict[str, dict[str, Any]] = {}
        for item in items:
            key = job_key(item)
            if key is not None and key not in self.jobs and key not in missing:
                title = item.job_title or item.job_external_id or key
                missing[key] = {"title": _clip(title, JOB_TITLE_LEN), "department": None,
                                "status": PLACEHOLDER_JOB_STATUS, "opened_at": None, "closed_at": None,
                                "description": None, "required_skills": None, "preferred_skills": None,
                                "location": None}
        if missing:
            self._insert_missing(conn, J, missing)
            self.jobs = self._load_ids(conn, J)
        return self.jobs

    def reason_ids(self, conn: Connection, items: list[ValidApplication]) -> dict[str, int]:
        """`reason_key -> id`, creating (and classifying) reasons that only appear on applications."""
        missing: dict[str, dict[str, Any]] = {}
        for item in items:
            key = reason_key(item)
            if key is not None and key not in self.reasons and key not in missing:
                name = _clip(item.reason_text or item.reason_external_id or key, REASON_NAME_LEN)
                missing[key] = self._reason_row(name, reason_kind_for(item.status))
        if missing:
            self._insert_missing(conn, R, missing)
            self.reasons = self._load_ids(conn, R)
        return self.reasons

    def _insert_missing(self, conn: Connection, table: Any, missing: dict[str, dict[str, Any]]) -> None:
        now = self.clock()
        rows = []
        for key, values in missing.items():
            row = {"source": self.source, "external_id": key, **values}
            if "updated_at" in table.c:
                row["updated_at"] = now
            rows.append(row)
        insert_missing(conn, table, rows, conflict=("source", "external_id"))


def job_problem(rec: JobRecord, dates: DateBounds) -> str | None:
    """Why a job cannot be stored as the source gave it: a text longer than its column (cutting it would
    change what the matcher and the mails say), an implausible date, or a closing before the opening."""
    for name, limit in JOB_TEXT_LIMITS.items():
        text = normalize_text(getattr(rec, name))
        if text is not None and len(text) > limit:
            return (f"job field {name} is longer than {limit} characters ({len(text):,}); shorten it in "
                    f"the source")
    opened, closed = _aware(rec.opened_at), _aware(rec.closed_at)
    for name, value in (("opened_at", opened), ("closed_at", closed)):
        if value is not None and (problem := dates.problem(name, value)) is not None:
            return problem
    if opened is not None and closed is not None and closed < opened:
        return "job field closed_at is before opened_at: the closing date precedes the opening date"
    return None


def skill_list(values: Iterable[str]) -> list[str] | None:
    """Skills as stored: NFKC-normalised, duplicates dropped, spelling kept; None when there are none."""
    seen: dict[str, None] = {}
    for value in values:
        text = normalize_text(value) if isinstance(value, str) else None
        if text:
            seen.setdefault(_clip(storable(text), SKILL_LEN), None)
    return list(seen)[:MAX_SKILLS] or None


def _description(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return _clip(value.strip(), JOB_DESCRIPTION_LEN)


def _keyed(records: Iterable[Rec | BadRecord], limit: int, label: str, record_type: str,
           bad: list[QuarantineEntry]) -> Iterator[tuple[str, Rec]]:
    """(normalised id, record) of every record fit to store. The others go to `bad`: a row the adapter
    could not read (a jobs sheet's) and what `_checked_key` refuses."""
    for rec in records:
        if isinstance(rec, BadRecord):
            entry = quarantine_bad(rec)
            bad.append(QuarantineEntry(reason=entry.reason, raw=entry.raw, external_id=entry.external_id,
                                       record_type=record_type))
            continue
        key = _checked_key(rec, limit, label, record_type, bad)
        if key is not None:
            yield key, rec


def _checked_key(
    rec: Any, limit: int, label: str, record_type: str, bad: list[QuarantineEntry]
) -> str | None:
    """The record's normalised id, or None after quarantining a record whose id is missing or too long,
    or one with a control character in any of its texts (what PostgreSQL refuses, SQLite refuses too)."""
    key = normalize_text(rec.external_id)
    if key is None:
        problem: str | None = f"{label} without an id"
    elif len(key) > limit:
        problem = f"{label} id longer than {limit} characters"
    else:
        problem = _control_problem(rec, label)
    if problem is None:
        return key
    bad.append(QuarantineEntry(reason=problem, raw=jsonable(_record_dict(rec)),
                               external_id=storable(key)[:200] if key else None, record_type=record_type))
    return None


def _control_problem(rec: Any, label: str) -> str | None:
    for name in rec.__slots__:
        value = getattr(rec, name)
        if isinstance(value, str) and (text := normalize_text(value)) and \
                (code := control_character(text)) is not None:
            return f"{label} field {name} contains a control character ({code})"
    return None


def _record_dict(rec: Any) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in rec.__slots__}

