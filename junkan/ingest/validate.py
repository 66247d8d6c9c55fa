"""Turn adapter records into validated rows or quarantine entries with a readable reason.

Reasons name the field and the rule, never the value of a personal field, so they can be shown in
reports and logs; the raw record itself is kept in the quarantine table for the operator.

Decision date rule: a decided status (`rejected`, `hired`, `withdrawn`) needs a decision time, because
rejection notices are timed from it. When the source gives none, the source's `updated_at` is used (the
moment the ATS recorded the change, the closest honest proxy); without either the record is quarantined
rather than guessed. An `in_process` application has no decision time, so an un-reject clears it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from junkan.ats.base import STATUSES, ApplicationRecord, BadRecord
from junkan.db.models import Application, Candidate, Job, RejectionReason
from junkan.identity import is_valid_email, normalize_email, normalize_name, normalize_phone, normalize_text
from junkan.plausibility import DateBounds, control_character, has_unstorable, storable, zone

DECIDED_STATUSES = frozenset({"rejected", "hired", "withdrawn"})
#: Statuses that carry a reason (ours or theirs).
REASON_STATUSES = frozenset({"rejected", "withdrawn"})


def _limit(column: Any) -> int:
    return int(column.type.length)


#: Field -> maximum length, read from the model so the two never disagree.
LIMITS: dict[str, int] = {
    "external_id": _limit(Application.__table__.c.external_id),
    "name": _limit(Candidate.__table__.c.display_name),
    "job_external_id": _limit(Job.__table__.c.external_id),
    "job_title": _limit(Job.__table__.c.title),
    "reason_external_id": _limit(RejectionReason.__table__.c.external_id),
    "reason_text": _limit(Application.__table__.c.reason_text),
    "stage": _limit(Application.__table__.c.stage_reached),
}
_MAX_EXTERNAL_ID = LIMITS["external_id"]
_TEXT_FIELDS = ("name", "job_external_id", "job_title", "reason_external_id", "reason_text", "stage")
_TEXT_LIMITS = tuple(LIMITS[name] for name in _TEXT_FIELDS)
#: Consent wording version column width.
MAX_WORDING_VERSION = 32
DEFAULT_WORDING_VERSION = "ats"
KNOWN_PURPOSES = frozenset({"talent_pool", "partner_info", "recontact"})
#: Quarantine record_type of review entries for stored applications without a usable address.
ADDRESS_REVIEW = "address"


@dataclass(slots=True)
class ValidApplication:
    """A record that passed validation, with every value normalised as it will be stored."""

    external_id: str
    status: str
    #: None when the record has no usable address: the application is stored, its candidate has no
    #: identity key (never merged, never mailed) and `address_problem` says why, for the review list.
    email_key: str | None
    phone_key: str | None
    display_name: str | None
    locale: str | None
    job_external_id: str | None
    job_title: str | None
    applied_at: datetime | None
    decided_at: datetime | None
    reason_external_id: str | None
    reason_text: str | None
    stage: str | None
    updated_at: datetime | None
    consents: dict[str, bool]
    wording_version: str
    tags: tuple[str, ...]
    raw: dict[str, Any]
    content_hash: str = ""
    #: What the matcher reads of the person (a スキル column, 勤務希望地 / 居住地); stored on the candidate.
    skills: tuple[str, ...] = ()
    location: str | None = None
    address_problem: str | None = None
    #: The source's id of the person (not hashed: it identifies, it does not describe).
    candidate_external_id: str | None = None

    def compute_hash(self) -> str:
        """Hash of what we store; `updated_at` and `raw` are left out so a mere touch is 'unchanged'.

        The serialisation is part of the stored data (application.content_hash): changing it would make
        every stored application look changed on the next run.
        """
        payload = [
            self.status, self.email_key, self.phone_key, self.display_name, self.locale,
            self.job_external_id, self.job_title, _iso(self.applied_at), _iso(self.decided_at),
            self.reason_external_id, self.reason_text, self.stage,
            sorted(self.consents.items()) if self.consents else [], self.wording_version, list(self.tags),
        ]
        # Appended only when present, so the hashes of records without them stay what they were.
        if self.skills or self.location:
            payload.extend([list(self.skills), self.location])
        return hashlib.blake2b(_HASH_ENCODER.encode(payload).encode("utf-8"), digest_size=32).hexdigest()


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    reason: str
    raw: dict[str, Any]
    external_id: str | None = None
    updated_at: datetime | None = None
    record_type: str = "application"

    @property
    def fingerprint(self) -> str:
        """Same record, same fingerprint: a re-run bumps `seen_count` instead of adding a row."""
        text = json.dumps([self.record_type, self.external_id, self.raw], ensure_ascii=False,
                          sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Same output as json.dumps(…, ensure_ascii=False, separators=(",", ":")) without building an encoder
#: per call.
_HASH_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


#: Values that repeat on thousands of records (job ids and titles, reasons, stages) are normalised once.
#: Bounded: cleared when full, so an odd source with unique values costs memory, not correctness.
_REPEATED: dict[str, str | None] = {}
_REPEATED_LIMIT = 20_000


def _normalize_repeated(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _REPEATED[value]
    except KeyError:
        if len(_REPEATED) >= _REPEATED_LIMIT:
            _REPEATED.clear()
        result = _REPEATED[value] = normalize_text(value)
        return result


# Dates repeat across records (a year of application days), and converting or formatting one costs
# microseconds each: bounded memo tables, cleared when full.
_AWARE: dict[datetime, datetime] = {}
_ISO_UTC: dict[datetime, str] = {}
_MEMO_LIMIT = 50_000


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # equal instants in other zones format differently: no memo
        return value.isoformat()
    try:
        return _ISO_UTC[value]
    except KeyError:
        if len(_ISO_UTC) >= _MEMO_LIMIT:
            _ISO_UTC.clear()
        text = _ISO_UTC[value] = value.isoformat()
        return text


def _aware(value: datetime | None) -> datetime | None:
    # Adapters hand back aware datetimes; a naive one is taken as UTC, as the adapters' own helpers do.
    # Equal keys are the same instant (naive ones never equal aware ones), so the memo is exact; a
    # repeated wall time at a DST change (fold=1) compares equal to the first one, so it is not memoised.
    if value is None:
        return None
    try:
        return _AWARE[value] if not value.fold else _convert(value)
    except KeyError:
        if len(_AWARE) >= _MEMO_LIMIT:
            _AWARE.clear()
        converted = _AWARE[value] = _convert(value)
        return converted


def _convert(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_is_str = str.__instancecheck__  # isinstance(v, str) as a C function, for filter()
_STR_ONLY = frozenset({str})


def jsonable(value: Any) -> Any:
    """A JSON-safe and storable copy of a raw payload: dates and decimals become strings, NUL and
    unpaired surrogates U+FFFD (neither database's JSON column can hold them)."""
    if isinstance(value, dict):
        # Type sets built in C: the common flat spreadsheet row is already JSON and is kept as it is.
        values = value.values()
        types = set(map(type, values))
        if types <= _SCALARS and set(map(type, value)) <= _STR_ONLY:
            texts = "\n".join(values if types == _STR_ONLY else filter(_is_str, values))
            if not has_unstorable(texts) and not has_unstorable("\n".join(value)):
                return value
        return {storable(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str):
        return storable(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def record_raw(record: ApplicationRecord) -> dict[str, Any]:
    """The source payload for audit and quarantine; built from the fields if the adapter kept none."""
    payload: dict[str, Any] = jsonable(record.raw) if record.raw else jsonable({
        "external_id": record.external_id, "status": record.status, "email": record.email,
        "name": record.name, "phone": record.phone, "job_external_id": record.job_external_id,
        "job_title": record.job_title, "applied_at": record.applied_at, "decided_at": record.decided_at,
        "reason_external_id": record.reason_external_id, "reason_text": record.reason_text,
        "stage": record.stage, "updated_at": record.updated_at,
    })
    return payload


def _locale(value: str | None) -> str | None:
    text = normalize_text(value)
    if not text:
        return None
    language = text.replace("_", "-").split("-")[0].casefold()
    return language if language.isascii() and language.isalpha() and 2 <= len(language) <= 3 else None


def _tags(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        text = normalize_text(value) if isinstance(value, str) else None
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def _wording_version(raw: dict[str, Any]) -> str:
    value = raw.get("consent_wording_version") or raw.get("wording_version")
    text = normalize_text(value) if isinstance(value, str) else None
    return text[:MAX_WORDING_VERSION] if text else DEFAULT_WORDING_VERSION


def validate_record(
    record: ApplicationRecord, *, phone_region: str = "JP", dates: DateBounds | None = None,
) -> ValidApplication | QuarantineEntry:
    """One record -> a ValidApplication, or a QuarantineEntry listing every problem found.

    `dates` is the run's window of plausible dates; without it, the window around the current time.
    """
    problems: list[str] = []
    external_id = normalize_text(record.external_id)
    if external_id is None:
        problems.append("missing application id")
    elif len(external_id) > _MAX_EXTERNAL_ID:
        problems.append(f"application id is {len(external_id)} characters (limit {_MAX_EXTERNAL_ID})")

    # A missing or unusable address does not stop the record being stored (it is still a decision):
    # it is named here, for the review list, and the address is dropped.
    email_key = normalize_email(record.email)
    address_problem = None
    if email_key is None:
        address_problem = "missing e-mail address"
    elif control_character(email_key) is not None:
        address_problem = f"field email contains a control character ({control_character(email_key)})"
    elif not is_valid_email(email_key):
        address_problem = "invalid e-mail address (expected name@domain.tld)"
    if address_problem is not None:
        email_key = None

    status = record.status
    if status not in STATUSES:
        status = (status or "").strip()
        if status not in STATUSES:
            shown = status[:40] if status else "(empty)"
            problems.append(f"unknown status {shown!r} (expected one of {', '.join(STATUSES)})")

    applied_at = _aware(record.applied_at)
    updated_at = _aware(record.updated_at)
    decided_at = _aware(record.decided_at)
    if status in DECIDED_STATUSES:
        decided_at = decided_at or updated_at
        if decided_at is None:
            problems.append(f"status {status!r} without a decision date (decided_at / 選考結果日)")
    elif status == "in_process":
        decided_at = None
    problems.extend((dates or _current_bounds()).problems(applied_at, decided_at, updated_at))

    name = normalize_name(record.name)
    job_external_id = _normalize_repeated(record.job_external_id)
    job_title = _normalize_repeated(record.job_title)
    reason_external_id = _normalize_repeated(record.reason_external_id)
    reason_text = _normalize_repeated(record.reason_text)
    stage = _normalize_repeated(record.stage)
    texts = (name, job_external_id, job_title, reason_external_id, reason_text, stage)
    for field_name, value, limit in zip(_TEXT_FIELDS, texts, _TEXT_LIMITS, strict=True):
        if value is not None and len(value) > limit:
            problems.append(f"field {field_name} is {len(value)} characters (limit {limit})")
    raw = record.raw
    wording_version = _wording_version(raw) if raw else DEFAULT_WORDING_VERSION
    tags = _tags(record.tags) if record.tags else ()
    skills = _tags(record.skills) if record.skills else ()
    location = normalize_text(record.location) if record.location else None
    checked = (external_id, record.phone, wording_version, *texts, *tags, *skills, location)
    if control_character(" ".join(filter(None, checked))) is not None:
        problems.extend(_control_problems(
            zip(("external_id", "phone", "consent_wording_version", *_TEXT_FIELDS,
                 *("tags",) * len(tags), *("skills",) * len(skills), "location"), checked, strict=True)))

    if problems:
        if address_problem is not None:
            problems.insert(0, address_problem)
        kept_id = storable(external_id)[:200] if external_id else None
        return QuarantineEntry(reason=_where(raw) + "; ".join(problems), raw=record_raw(record),
                               external_id=kept_id, updated_at=updated_at)

    assert external_id is not None  # narrowed by the checks above
    carries_reason = status in REASON_STATUSES
    given = record.consents
    consents = {p: bool(g) for p, g in given.items() if p in KNOWN_PURPOSES} if given else {}
    valid = ValidApplication(
        external_id=external_id,
        status=status,
        email_key=email_key,
        phone_key=normalize_phone(record.phone, phone_region),
        display_name=name,
        locale=_locale(record.locale) if record.locale else None,
        job_external_id=job_external_id,
        job_title=job_title,
        applied_at=applied_at,
        decided_at=decided_at,
        reason_external_id=reason_external_id if carries_reason else None,
        reason_text=reason_text if carries_reason else None,
        stage=stage,
        updated_at=updated_at,
        consents=consents,
        wording_version=wording_version,
        tags=tags,
        raw=record_raw(record),
        skills=skills,
        location=location,
        address_problem=_where(raw) + address_problem if address_problem else None,
        candidate_external_id=_person_id(record.candidate_external_id),
    )
    valid.content_hash = valid.compute_hash()
    return valid


def address_review(item: ValidApplication) -> QuarantineEntry | None:
    """The review-list entry of a stored application without a usable address (record_type "address").

    It is not a quarantined record: the application is stored and counted; the entry only shows the
    operator which row to fix in the ATS, and is resolved once a version with an address is ingested.
    """
    if item.address_problem is None:
        return None
    return QuarantineEntry(reason=item.address_problem, raw=item.raw, external_id=item.external_id[:200],
                           updated_at=item.updated_at, record_type=ADDRESS_REVIEW)


def _control_problems(fields: Iterable[tuple[str, str | None]]) -> list[str]:
    found: dict[str, str] = {}  # one reason per field (a tag list names `tags` once)
    for name, value in fields:
        if value and name not in found and (code := control_character(value)) is not None:
            found[name] = f"field {name} contains a control character ({code})"
    return list(found.values())


def _current_bounds() -> DateBounds:
    return DateBounds.around(datetime.now(UTC), zone(None))


def _where(raw: dict[str, Any] | None) -> str:
    """"row 57: " for spreadsheet records (the adapter keeps the row number), so an operator finds it."""
    row = (raw or {}).get("_row")
    return f"row {row}: " if isinstance(row, int) and not isinstance(row, bool) else ""


def quarantine_bad(bad: BadRecord) -> QuarantineEntry:
    # An adapter's reason may quote the unreadable cell (a date, a consent answer): kept storable.
    external_id = normalize_text(bad.external_id)
    return QuarantineEntry(reason=storable(bad.reason or "unreadable record"), raw=jsonable(bad.raw or {}),
                           external_id=storable(external_id)[:200] if external_id else None)


_FIELDS_FOR_DIFF = ("status", "email_key", "phone_key", "display_name", "locale", "job_external_id",
                    "job_title", "applied_at", "decided_at", "reason_external_id", "reason_text", "stage",
                    "consents", "wording_version", "tags", "skills", "location")


def differing_fields(a: ValidApplication, b: ValidApplication) -> list[str]:
    return [f for f in _FIELDS_FOR_DIFF if getattr(a, f) != getattr(b, f)]


@dataclass(slots=True)
class _Seen:
    content_hash: int
    updated_at: float | None


@dataclass(slots=True)
class BatchResult:
    valid: list[ValidApplication] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    #: Exact repeats of a record already accepted in this run (e.g. a page read twice); dropped.
    repeats: int = 0
    #: Older versions of a record already accepted in this run with a newer `updated_at`; dropped.
    stale: int = 0


class Validator:
    """Validates a run's records batch by batch, remembering external ids across batches.

    Duplicate ids within one run: an identical repeat is kept once; a later version (newer `updated_at`)
    supersedes the earlier one, which is how a record edited while the source was being paged looks;
    the same id with different data and no newer `updated_at` is a conflict, and the later occurrence is
    quarantined (the first one is ingested, so a re-run of the same export gives the same result).
    Memory is one small entry per accepted id, a few MB at 100,000 records.

    `dates` is the run's window of plausible dates (fixed at the run's start, so every batch is judged
    alike); the window around the current time when not given.
    """

    def __init__(self, *, phone_region: str = "JP", dates: DateBounds | None = None) -> None:
        self.phone_region = phone_region
        self.dates = dates or _current_bounds()
        self._seen: dict[str, _Seen] = {}

    def validate(self, records: Iterable[ApplicationRecord | BadRecord]) -> BatchResult:
        result = BatchResult()
        in_batch: dict[str, int] = {}  # external id -> index in result.valid
        for record in records:
            if isinstance(record, BadRecord):
                result.quarantined.append(quarantine_bad(record))
                continue
            checked = validate_record(record, phone_region=self.phone_region, dates=self.dates)
            if isinstance(checked, QuarantineEntry):
                result.quarantined.append(checked)
                continue
            self._accept(checked, result, in_batch)
        return result

    def _accept(self, item: ValidApplication, result: BatchResult, in_batch: dict[str, int]) -> None:
        key = item.external_id
        stamp = item.updated_at.timestamp() if item.updated_at else None
        digest = hash(item.content_hash)
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Seen(digest, stamp)
            in_batch[key] = len(result.valid)
            result.valid.append(item)
            return
        if seen.content_hash == digest:
            result.repeats += 1
            return
        if stamp is not None and seen.updated_at is not None and stamp != seen.updated_at:
            if stamp < seen.updated_at:
                result.stale += 1
                return
            self._seen[key] = _Seen(digest, stamp)
            if key in in_batch:
                # Both versions in one batch: one INSERT … ON CONFLICT may not touch a row twice.
                result.valid[in_batch[key]] = item
            else:
                in_batch[key] = len(result.valid)
                result.valid.append(item)
            return
        detail = "differs from an earlier batch"
        if key in in_batch:
            detail = f"differs in {', '.join(differing_fields(result.valid[in_batch[key]], item))}"
        result.quarantined.append(QuarantineEntry(
            reason=f"{_where(item.raw)}duplicate application id {key!r} with conflicting data ({detail}; "
                   "the first occurrence was ingested)",
            raw=item.raw, external_id=key[:200], updated_at=item.updated_at,
        ))


#: application.candidate_external_id's length (an ATS id is a number or a short token).
PERSON_ID_LEN = 128


def _person_id(value: str | None) -> str | None:
    """The source's person id, or None when absent or longer than any real ATS id (it would not be an id:
    cutting it would link to another person)."""
    text = (value or "").strip()
    return text if text and len(text) <= PERSON_ID_LEN else None
