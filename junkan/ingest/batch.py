"""Writes one validated batch of applications in one transaction, with a fixed number of statements.

Per batch: one SELECT of the batch's existing applications, then only for new or changed ones (content
hash differs): candidates (SELECT + INSERT … ON CONFLICT DO NOTHING RETURNING + UPDATE of changed
attributes), missing jobs/reasons, the stored applications of the candidates that already existed
(re-application detection), the application rows, the decision log, outbox cancellations, consents and
the re-application flags of older rows. An unchanged batch costs one SELECT, which is what makes
re-running a window cheap and a no-op.

On PostgreSQL the source is locked for the transaction (an advisory lock), so the applications the
lookup did not find are new for certain: their ids are drawn from the sequence up front, their
re-application flags computed before they are written, and they are COPYed straight into the table
(no staging, no conflict check, no second UPDATE). On SQLite, which serialises writers anyway, they go
through `INSERT … ON CONFLICT DO UPDATE … RETURNING` and the flags are set afterwards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from junkan import tombstone
from junkan.batching import batched
from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.db.models import Application, Candidate, Consent, DecisionLog, Message
from junkan.db.types import string_length
from junkan.ingest import pgcopy
from junkan.ingest.quarantine import resolve_quarantine, upsert_quarantine
from junkan.ingest.reference import ReferenceData, job_key, reason_key
from junkan.ingest.upsert import (
    IN_CHUNK,
    insert_missing,
    insert_rows,
    insert_tuples,
    select_in,
    update_by_id,
    upsert,
)
from junkan.ingest.validate import (
    ADDRESS_REVIEW,
    BatchResult,
    QuarantineEntry,
    ValidApplication,
    address_review,
)
from junkan.keyed import email_hash
from junkan.outbox.transitions import cancel
from junkan.tally import Tally

log = logging.getLogger(__name__)

A = Application.__table__
C = Candidate.__table__
CO = Consent.__table__
DL = DecisionLog.__table__
M = Message.__table__

CLOSED_STATUSES = frozenset({"rejected", "withdrawn"})

_APPLICATION_UPDATE_COLUMNS = (
    "candidate_id", "job_id", "status", "applied_at", "decided_at", "reason_id", "reason_text",
    "stage_reached", "source_updated_at", "content_hash", "updated_at", "candidate_external_id",
)
_DECISION_LOG_COLUMNS = ("application_id", "old_status", "new_status", "decided_at", "recorded_at", "source",
                         "run_id", "payload")
_CONSENT_COLUMNS = ("candidate_id", "purpose", "granted", "recorded_at", "source", "wording_version",
                    "expires_at")
_REAPPLICATION_COLUMNS = (A.c.id, A.c.candidate_id, A.c.status, A.c.applied_at, A.c.decided_at,
                          A.c.created_at, A.c.is_reapplication)


@dataclass(slots=True)
class IngestCounts(Tally):
    """What one ingest run did; the flow publishes it as an artifact (counts only, no personal data)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    hired: int = 0
    withdrawn: int = 0
    reapplied: int = 0
    unrejected: int = 0
    quarantined: int = 0
    #: Stored applications without a usable address (listed for review, never mailed; not quarantined).
    no_address: int = 0
    #: Pending decision notices cancelled because the decision was reversed (un-reject, hire …).
    notices_cancelled: int = 0
    #: Records of erased or anonymised people (a tombstone matches), skipped: never stored again.
    erased: int = 0
    #: Jobs, openings and rejection reasons quarantined while the run synced the ATS's reference data
    #: (`quarantined` counts applications only).
    reference_quarantined: int = 0


def cancel_reason(old: str, new: str) -> str | None:
    """Why a pending notice for the old decision must not go out any more (None: keep it)."""
    if old not in CLOSED_STATUSES or old == new:
        return None
    if new == "in_process":
        return "unrejected" if old == "rejected" else "reopened"
    return new  # "hired", or the decision flipped between rejected and withdrawn


@dataclass(slots=True)
class _AppFacts:
    """What re-application detection needs to know about one application (stored or in the batch)."""

    id: int
    candidate_id: int
    status: str
    applied_at: datetime | None
    decided_at: datetime | None
    created_at: datetime | None
    is_reapplication: bool


@dataclass(slots=True)
class _AppRow:
    """One application row as the writer stores it; the field order is the column order of COPY."""

    id: int | None  # None until drawn from the sequence (PostgreSQL) or returned by the upsert (SQLite)
    source: str
    external_id: str
    candidate_id: int
    job_id: int | None
    status: str
    applied_at: datetime | None
    decided_at: datetime | None
    reason_id: int | None
    reason_text: str | None
    stage_reached: str | None
    is_reapplication: bool
    previous_application_id: int | None
    source_updated_at: datetime | None
    content_hash: str
    created_at: datetime
    updated_at: datetime
    candidate_external_id: str | None = None

    def as_tuple(self) -> tuple[Any, ...]:
        """The values in _APPLICATION_COLUMNS order (spelled out: dataclasses.astuple deep-copies)."""
        return (self.id, self.source, self.external_id, self.candidate_id, self.job_id, self.status,
                self.applied_at, self.decided_at, self.reason_id, self.reason_text, self.stage_reached,
                self.is_reapplication, self.previous_application_id, self.source_updated_at,
                self.content_hash, self.created_at, self.updated_at, self.candidate_external_id)

    def insert_values(self) -> dict[str, Any]:
        """Every column but the id (the upsert returns it)."""
        return dict(zip(_APPLICATION_COLUMNS[1:], self.as_tuple()[1:], strict=True))

    def update_values(self) -> dict[str, Any]:
        """`row_id` and the columns an update of a stored application sets (update_by_id's shape)."""
        return {"row_id": self.id, **{name: getattr(self, name) for name in _APPLICATION_UPDATE_COLUMNS}}

    def facts(self) -> _AppFacts:
        # An update keeps the stored created_at and flag: reapplication_flags lays them over these.
        assert self.id is not None, "facts are taken once the row has its id"
        return _AppFacts(id=self.id, candidate_id=self.candidate_id, status=self.status,
                         applied_at=self.applied_at, decided_at=self.decided_at, created_at=self.created_at,
                         is_reapplication=False)


#: Every application column the writer sets, in the order of _AppRow.as_tuple.
_APPLICATION_COLUMNS = tuple(f.name for f in fields(_AppRow))


@dataclass(slots=True)
class _CandidateAttrs:
    """A candidate's display attributes as a batch states them (the newest record that has each)."""

    display_name: str | None
    phone_key: str | None
    locale: str | None
    tags: list[str]
    #: Skills accumulate like tags; the location is the newest record's that has one.
    skills: list[str]
    location: str | None


#: candidate.location is a short place name ("東京都", "大阪府 大阪市"); a longer cell is cut, not refused.
CANDIDATE_LOCATION_LEN = string_length(C.c.location)


@dataclass(kw_only=True)
class BatchWriter:
    source: str
    run_id: str | None
    reference: ReferenceData
    clock: Callable[[], datetime]
    #: External ids with an unresolved quarantine entry when the run started.
    open_quarantine: set[str]
    #: External ids with an unresolved address review entry when the run started.
    open_review: set[str] = field(default_factory=set)
    #: How long the consent records written here last.
    consent: ConsentSettings = field(default_factory=ConsentSettings)
    #: Key of the address hash tombstones keep; None: only (source, external id) tombstones apply.
    hash_key: bytes | None = None
    #: External ids this run quarantined so far.
    quarantined_now: set[str] = field(default_factory=set, init=False)

    def _unburied(self, conn: Connection, batch: BatchResult,
                  counts: IngestCounts) -> tuple[list[ValidApplication], list[QuarantineEntry]]:
        """The batch without the records a tombstone matches (counted as `erased`)."""
        hashes = {i.external_id: email_hash(self.hash_key, i.email_key)
                  for i in batch.valid if self.hash_key is not None and i.email_key}
        ids = [i.external_id for i in batch.valid]
        ids += [q.external_id for q in batch.quarantined if q.external_id]
        buried = tombstone.lookup(conn, self.source, ids, list(hashes.values()))
        if not (buried.external_ids or buried.email_hashes):
            return batch.valid, batch.quarantined
        valid = [i for i in batch.valid if not buried.buries(i.external_id, hashes.get(i.external_id))]
        quarantined = [q for q in batch.quarantined if q.external_id not in buried.external_ids]
        counts.erased = len(batch.valid) - len(valid) + len(batch.quarantined) - len(quarantined)
        return valid, quarantined

    def write(self, conn: Connection, batch: BatchResult) -> IngestCounts:
        counts = IngestCounts()
        now = self.clock()
        items, quarantined = self._unburied(conn, batch, counts)
        counts.quarantined = upsert_quarantine(conn, self.source, quarantined, now)
        self.quarantined_now.update(q.external_id for q in quarantined if q.external_id)
        if not items:
            return counts
        reviews = [entry for item in items if (entry := address_review(item)) is not None]
        if reviews:
            counts.no_address = upsert_quarantine(conn, self.source, reviews, now)
        if conn.dialect.name == "postgresql":
            # One writer per source at a time: what the lookup below finds missing stays missing until
            # this transaction commits, so new applications can be written without conflict handling.
            pgcopy.advisory_xact_lock(conn, f"junkan.ingest:{self.source}")
        existing = {
            row.external_id: row
            for row in select_in(conn, [A.c.id, A.c.external_id, A.c.status, A.c.content_hash,
                                        A.c.candidate_id],
                                 A.c.external_id, [i.external_id for i in items], A.c.source == self.source)
        }
        changed = [i for i in items if (e := existing.get(i.external_id)) is None
                   or e.content_hash != i.content_hash]
        counts.unchanged = len(items) - len(changed)
        if changed:
            self._write_changed(conn, changed, existing, counts, now)
        resolved = [i.external_id for i in items
                    if i.external_id in self.open_quarantine and i.external_id not in self.quarantined_now]
        if resolved:
            resolve_quarantine(conn, self.source, resolved, now)
            self.open_quarantine.difference_update(resolved)
        addressed = [i.external_id for i in items
                     if i.email_key is not None and i.external_id in self.open_review]
        if addressed:
            resolve_quarantine(conn, self.source, addressed, now, record_type=ADDRESS_REVIEW)
            self.open_review.difference_update(addressed)
        return counts

    # -- the changed part of a batch --------------------------------------------------------------

    def _write_changed(self, conn: Connection, changed: list[ValidApplication], existing: dict[str, Any],
                       counts: IngestCounts, now: datetime) -> None:
        postgres = conn.dialect.name == "postgresql"
        candidate_ids, created = self._candidates(conn, changed, existing, now)
        job_ids = self.reference.job_ids(conn, changed)
        reason_ids = self.reference.reason_ids(conn, changed)

        # Re-application detection looks at every application of the touched candidates; a candidate
        # created in this batch has none stored yet.
        touched: set[int] = set()
        for item in changed:
            touched.add(candidate_ids[item.external_id])
            if (old := existing.get(item.external_id)) is not None:
                touched.add(old.candidate_id)
        stored = select_in(conn, _REAPPLICATION_COLUMNS, A.c.candidate_id,
                           [c for c in touched if c not in created])

        source = self.source
        new_items = [i for i in changed if i.external_id not in existing]
        app_rows: list[_AppRow] = []
        for item in changed:
            jkey, rkey = job_key(item), reason_key(item)
            old = existing.get(item.external_id)
            app_rows.append(_AppRow(
                id=old.id if old is not None else None, source=source, external_id=item.external_id,
                candidate_id=candidate_ids[item.external_id], job_id=job_ids.get(jkey) if jkey else None,
                status=item.status, applied_at=item.applied_at, decided_at=item.decided_at,
                reason_id=reason_ids.get(rkey) if rkey else None, reason_text=item.reason_text,
                stage_reached=item.stage, is_reapplication=False, previous_application_id=None,
                source_updated_at=item.updated_at, content_hash=item.content_hash, created_at=now,
                updated_at=now, candidate_external_id=item.candidate_external_id,
            ))

        if postgres:
            fresh = iter(pgcopy.allocate_ids(conn, A, len(new_items)))
            for row in app_rows:
                if row.id is None:
                    row.id = next(fresh)
            flags = reapplication_flags(stored, [row.facts() for row in app_rows])
            new_rows, updated_rows = [], []
            for row in app_rows:
                if row.external_id not in existing:
                    previous = flags.get(row.id) if row.id is not None else None
                    if previous is not None:
                        row.is_reapplication, row.previous_application_id = True, previous
                    new_rows.append(row)
                else:
                    updated_rows.append(row)
            pgcopy.copy_rows(conn, A, _APPLICATION_COLUMNS, [row.as_tuple() for row in new_rows])
            if updated_rows:
                update_by_id(conn, A, [row.update_values() for row in updated_rows],
                             _APPLICATION_UPDATE_COLUMNS)
            fresh_ids = {row.id for row in new_rows}
            later = {app_id: previous for app_id, previous in flags.items() if app_id not in fresh_ids}
        else:
            returned = upsert(conn, A, [row.insert_values() for row in app_rows],
                              conflict=("source", "external_id"), update_columns=_APPLICATION_UPDATE_COLUMNS)
            for row, app_id in zip(app_rows, returned, strict=True):
                row.id = app_id
            later = flags = reapplication_flags(stored, [row.facts() for row in app_rows])
        ids: list[int] = []
        for row in app_rows:
            assert row.id is not None  # drawn from the sequence or returned by the upsert above
            ids.append(row.id)
        flag_rows = [{"row_id": app_id, "is_reapplication": True, "previous_application_id": previous,
                      "updated_at": now} for app_id, previous in later.items()]
        update_by_id(conn, A, flag_rows, ("is_reapplication", "previous_application_id", "updated_at"))
        counts.reapplied = len(flags)

        logs: list[tuple[Any, ...]] = []
        cancellations: dict[str, list[int]] = defaultdict(list)
        for item, app_id in zip(changed, ids, strict=True):
            old = existing.get(item.external_id)
            if old is None:
                counts.new += 1
                old_status = None
            else:
                counts.updated += 1
                old_status = old.status
            if old_status == item.status:
                continue
            if item.status in ("rejected", "hired", "withdrawn"):
                setattr(counts, item.status, getattr(counts, item.status) + 1)
            if old_status == "rejected" and item.status == "in_process":
                counts.unrejected += 1
            if old_status is not None and (why := cancel_reason(old_status, item.status)):
                cancellations[why].append(app_id)
            logs.append((app_id, old_status, item.status, item.decided_at, now, source, self.run_id,
                         item.raw))
        insert_tuples(conn, DL, _DECISION_LOG_COLUMNS, logs)
        counts.notices_cancelled = self._cancel_notices(conn, cancellations, now)
        self._consents(conn, changed, candidate_ids, created, now)

    # -- candidates -------------------------------------------------------------------------------

    def _candidates(self, conn: Connection, items: list[ValidApplication], existing: dict[str, Any],
                    now: datetime) -> tuple[dict[str, int], set[int]]:
        """`application external id -> candidate id` (creating candidates, refreshing their display
        attributes), and the ids of the candidates created here.

        The e-mail key is the identity; phone, name and locale are attributes taken from the newest
        record that has them, and tags accumulate (sources disagree on tag vocabularies). An application
        without a usable address has a candidate of its own with no key, never shared with another
        application (a name is no identity): the one it already has if that has no key, else a new one.
        """
        wanted: dict[str, _CandidateAttrs] = {}
        keyless: list[ValidApplication] = []
        for item in items:
            if item.email_key is None:
                keyless.append(item)
                continue
            w = wanted.get(item.email_key)
            if w is None:
                wanted[item.email_key] = _CandidateAttrs(item.display_name, item.phone_key, item.locale,
                                                         list(item.tags), list(item.skills),
                                                         _location(item.location))
                continue
            w.display_name = item.display_name or w.display_name
            w.phone_key = item.phone_key or w.phone_key
            w.locale = item.locale or w.locale
            w.tags = _union(w.tags, item.tags)
            w.skills = _union(w.skills, item.skills)
            w.location = _location(item.location) or w.location
        columns = [C.c.id, C.c.email_key, C.c.display_name, C.c.phone_key, C.c.locale, C.c.tags,
                   C.c.skills, C.c.location, C.c.anonymized_at]
        stored = {r.email_key: r for r in select_in(conn, columns, C.c.email_key, wanted)}
        ids = {key: row.id for key, row in stored.items()}
        created: set[int] = set()
        new_rows = [
            {"email_key": key, "display_name": w.display_name, "phone_key": w.phone_key,
             "locale": w.locale or "ja", "tags": w.tags, "skills": w.skills or None, "location": w.location,
             "created_at": now, "updated_at": now}
            for key, w in wanted.items() if key not in stored
        ]
        if new_rows:
            for candidate_id, email_key in insert_missing(conn, C, new_rows, conflict=("email_key",),
                                                          returning=("id", "email_key")):
                ids[email_key] = candidate_id
                created.add(candidate_id)
            lost = [r["email_key"] for r in new_rows if r["email_key"] not in ids]
            if lost:  # created meanwhile by another source's run: treat as stored
                stored.update({r.email_key: r for r in select_in(conn, columns, C.c.email_key, lost)})
                ids.update({key: stored[key].id for key in lost})
        current: list[tuple[Any, _CandidateAttrs]] = [(row, wanted[key]) for key, row in stored.items()]
        by_app = {item.external_id: ids[item.email_key] for item in items if item.email_key is not None}
        current.extend(self._keyless(conn, keyless, existing, columns, by_app, created, now))
        updates = []
        for row, w in current:
            if row.anonymized_at is not None:
                continue  # retention removed the personal data; an old record must not restore it
            merged = {
                "display_name": w.display_name or row.display_name,
                "phone_key": w.phone_key or row.phone_key,
                "locale": w.locale or row.locale,
                "tags": _union(row.tags or [], w.tags),
                "skills": _union(row.skills or [], w.skills) or None,
                "location": w.location or row.location,
            }
            if any(merged[c] != getattr(row, c) for c in merged):
                updates.append({"row_id": row.id, **merged, "updated_at": now})
        update_by_id(conn, C, updates, ("display_name", "phone_key", "locale", "tags", "skills", "location",
                                        "updated_at"))
        return by_app, created

    @staticmethod
    def _keyless(conn: Connection, items: list[ValidApplication], existing: dict[str, Any],
                 columns: list[Any], by_app: dict[str, int], created: set[int],
                 now: datetime) -> list[tuple[Any, _CandidateAttrs]]:
        """Candidates without an identity key, one per application: fills `by_app` and `created`, and
        returns the reused (stored) ones with the attributes the batch states, for the refresh."""
        if not items:
            return []
        old_ids = [e.candidate_id for i in items if (e := existing.get(i.external_id)) is not None]
        reusable = {r.id: r for r in select_in(conn, columns, C.c.id, old_ids) if r.email_key is None}
        reused: list[tuple[Any, _CandidateAttrs]] = []
        fresh: list[ValidApplication] = []
        for item in items:
            old = existing.get(item.external_id)
            row = reusable.get(old.candidate_id) if old is not None else None
            if row is None:
                fresh.append(item)
                continue
            by_app[item.external_id] = row.id
            reused.append((row, _CandidateAttrs(item.display_name, item.phone_key, item.locale,
                                                list(item.tags), list(item.skills),
                                                _location(item.location))))
        rows: list[dict[str, Any]] = [
                {"email_key": None, "display_name": i.display_name, "phone_key": i.phone_key,
                 "locale": i.locale or "ja", "tags": list(i.tags), "skills": list(i.skills) or None,
                 "location": _location(i.location), "created_at": now, "updated_at": now}
                for i in fresh]
        if rows:
            if conn.dialect.name == "postgresql":
                new_ids = pgcopy.allocate_ids(conn, C, len(rows))
                for row_values, new_id in zip(rows, new_ids, strict=True):
                    row_values["id"] = new_id
                insert_rows(conn, C, rows)
            else:
                new_ids = list(conn.execute(C.insert().returning(C.c.id, sort_by_parameter_order=True),
                                            rows).scalars())
            for item, new_id in zip(fresh, new_ids, strict=True):
                by_app[item.external_id] = new_id
                created.add(new_id)
        return reused

    # -- outbox -----------------------------------------------------------------------------------

    def _cancel_notices(self, conn: Connection, by_reason: dict[str, list[int]], now: datetime) -> int:
        """Pending decision notices of a reversed decision are cancelled, never sent (docs/outbox.md).

        Through the outbox's transition API: only `pending` rows, lease released; a row in `sending` is
        owned by a sender, which re-checks the status itself (the send-time gate).
        """
        cancelled = 0
        for why, app_ids in by_reason.items():
            for part in batched(app_ids, IN_CHUNK):
                cancelled += cancel(conn, M.c.application_id.in_(part), reason=why, now=now)
        return cancelled

    # -- consents ---------------------------------------------------------------------------------

    def _consents(self, conn: Connection, items: list[ValidApplication], candidate_ids: dict[str, int],
                  created: set[int], now: datetime) -> None:
        """Record what this source says about consent, only when its statement changes.

        Compared with this source's own latest statement, not with the overall current state: a newer
        opt-in or opt-out made elsewhere (the unsubscribe page) must not be overwritten by an ATS
        record that merely changed for another reason. A candidate created in this batch has none.
        """
        with_consents = [i for i in items if i.consents]
        if not with_consents:
            return
        ids = [cid for i in with_consents if (cid := candidate_ids[i.external_id]) not in created]
        # (candidate, purpose) -> (recorded_at, granted) of the latest statement: the newest recorded_at,
        # the last written on a tie (as the stored rows sort), so the result does not depend on where
        # the batch boundaries fall.
        latest: dict[tuple[int, str], tuple[datetime, bool]] = {}
        rows = select_in(conn, [CO.c.candidate_id, CO.c.purpose, CO.c.granted, CO.c.recorded_at, CO.c.id],
                         CO.c.candidate_id, ids, CO.c.source == self.source)
        for row in sorted(rows, key=lambda r: (r.recorded_at, r.id)):
            latest[(row.candidate_id, row.purpose)] = (row.recorded_at, row.granted)
        inserts: list[tuple[Any, ...]] = []
        source = self.source
        for item in with_consents:
            cid = candidate_ids[item.external_id]
            # Without a source timestamp, consent dates from the application form.
            recorded_at = item.updated_at or item.applied_at or now
            for purpose, granted in sorted(item.consents.items()):
                key = (cid, purpose)
                known = latest.get(key)
                if known is not None and known[1] == granted:
                    continue
                if known is None or recorded_at >= known[0]:
                    latest[key] = (recorded_at, granted)
                inserts.append((cid, purpose, granted, recorded_at, source, item.wording_version,
                                expires_at(purpose, granted, recorded_at, self.consent)))
        insert_tuples(conn, CO, _CONSENT_COLUMNS, inserts)


def reapplication_flags(stored: Iterable[Any], batch: list[_AppFacts]) -> dict[int, int]:
    """`application id -> previous application id` for applications that become re-applications.

    An application made after the same candidate had an application rejected or withdrawn (in any
    source) is a re-application. Recomputed per touched candidate from the stored rows with the batch's
    values laid over them, so the order in which a source lists the old and the new application does
    not matter. The flag is sticky: it records a fact about when the application arrived, even if the
    earlier decision is reversed later; applications already flagged are left alone.
    """
    by_id: dict[int, Any] = {row.id: row for row in stored}
    for facts in batch:
        before = by_id.get(facts.id)
        if before is not None:  # an update keeps its creation time and its flag
            facts.created_at = before.created_at
            facts.is_reapplication = bool(before.is_reapplication)
        by_id[facts.id] = facts
    by_candidate: dict[int, list[Any]] = defaultdict(list)
    for app in by_id.values():
        by_candidate[app.candidate_id].append(app)
    flags: dict[int, int] = {}
    for apps in by_candidate.values():
        if len(apps) < 2:
            continue
        for app in apps:
            if app.is_reapplication:
                continue
            previous = find_previous(app, apps)
            if previous is not None:
                flags[app.id] = previous
    return flags


def find_previous(app: Any, apps: Iterable[Any]) -> int | None:
    """The candidate's latest rejected/withdrawn application decided before `app` was made."""
    started = app.applied_at or app.created_at
    best = None
    for other in apps:
        if other.id == app.id or other.status not in CLOSED_STATUSES or other.decided_at is None:
            continue
        if other.decided_at > started:
            continue
        if other.applied_at is not None and app.applied_at is not None and other.applied_at >= app.applied_at:
            continue
        if best is None or (other.decided_at, other.id) > (best.decided_at, best.id):
            best = other
    return best.id if best is not None else None


def _location(value: str | None) -> str | None:
    if not value:
        return None
    return value if len(value) <= CANDIDATE_LOCATION_LEN else value[: CANDIDATE_LOCATION_LEN - 1] + "…"


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
