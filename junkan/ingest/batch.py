"""Writes one validated batch of applications in one transaction, with a fixed number of statements.

Per batch: one SELECT of the batch's existing applications, then only for new or changed ones (content
hash differs): candidates (SELECT + INSERT … ON CONFLICT + UPDATE), missing jobs/reasons, the
application upsert, the decision log, outbox cancellations, consents and re-application flags. An
unchanged batch costs one SELECT, which is what makes re-running a window cheap and a no-op.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from junkan.db.models import Application, Candidate, Consent, DecisionLog, Message
from junkan.ingest.quarantine import resolve_quarantine, upsert_quarantine
from junkan.ingest.reference import ReferenceData, job_key, reason_key
from junkan.ingest.upsert import (
    IN_CHUNK,
    chunks,
    insert_missing,
    insert_rows,
    select_in,
    update_by_id,
    upsert,
)
from junkan.ingest.validate import BatchResult, ValidApplication

log = logging.getLogger(__name__)

A = Application.__table__
C = Candidate.__table__
CO = Consent.__table__
DL = DecisionLog.__table__
M = Message.__table__

CLOSED_STATUSES = frozenset({"rejected", "withdrawn"})

_APPLICATION_UPDATE_COLUMNS = (
    "candidate_id", "job_id", "status", "applied_at", "decided_at", "reason_id", "reason_text",
    "stage_reached", "source_updated_at", "content_hash", "updated_at",
)


@dataclass(slots=True)
class IngestCounts:
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
    #: Pending decision notices cancelled because the decision was reversed (un-reject, hire …).
    notices_cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def add(self, other: IngestCounts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def cancel_reason(old: str, new: str) -> str | None:
    """Why a pending notice for the old decision must not go out any more (None: keep it)."""
    if old not in CLOSED_STATUSES or old == new:
        return None
    if new == "in_process":
        return "unrejected" if old == "rejected" else "reopened"
    return new  # "hired", or the decision flipped between rejected and withdrawn


class BatchWriter:
    def __init__(
        self,
        *,
        source: str,
        run_id: str | None,
        reference: ReferenceData,
        clock: Callable[[], datetime],
        open_quarantine: set[str],
    ) -> None:
        self.source = source
        self.run_id = run_id
        self.reference = reference
        self.clock = clock
        #: External ids with an unresolved quarantine entry when the run started.
        self.open_quarantine = open_quarantine
        self.quarantined_now: set[str] = set()

    def write(self, conn: Connection, batch: BatchResult) -> IngestCounts:
        counts = IngestCounts()
        now = self.clock()
        if conn.dialect.name == "postgresql":
            # psycopg prepares a statement after 5 runs and PostgreSQL may then settle on a generic plan
            # made while the tables were small (a sequential scan against `= ANY(:keys)`), which gets
            # slower with every batch of a large first load. Plan each batch's lookups afresh.
            conn.connection.dbapi_connection.prepare_threshold = None  # EXPERIMENT
        counts.quarantined = upsert_quarantine(conn, self.source, batch.quarantined, now)
        self.quarantined_now.update(q.external_id for q in batch.quarantined if q.external_id)
        items = batch.valid
        if not items:
            return counts
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
        return counts

    # -- the changed part of a batch --------------------------------------------------------------

    def _write_changed(self, conn: Connection, changed: list[ValidApplication], existing: dict[str, Any],
                       counts: IngestCounts, now: datetime) -> None:
        candidate_ids = self._candidates(conn, changed, now)
        job_ids = self.reference.job_ids(conn, changed)
        reason_ids = self.reference.reason_ids(conn, changed)
        rows = []
        for item in changed:
            jkey, rkey = job_key(item), reason_key(item)
            rows.append({
                "source": self.source,
                "external_id": item.external_id,
                "candidate_id": candidate_ids[item.email_key],
                "job_id": job_ids.get(jkey) if jkey else None,
                "status": item.status,
                "applied_at": item.applied_at,
                "decided_at": item.decided_at,
                "reason_id": reason_ids.get(rkey) if rkey else None,
                "reason_text": item.reason_text,
                "stage_reached": item.stage,
                "is_reapplication": False,
                "previous_application_id": None,
                "source_updated_at": item.updated_at,
                "content_hash": item.content_hash,
                "created_at": now,
                "updated_at": now,
            })
        returned = upsert(conn, A, rows, conflict=("source", "external_id"),
                          update_columns=_APPLICATION_UPDATE_COLUMNS)
        ids = {item.external_id: app_id for item, app_id in zip(changed, returned, strict=True)}

        logs: list[dict[str, Any]] = []
        cancellations: dict[str, list[int]] = defaultdict(list)
        touched_candidates: set[int] = set()
        for item in changed:
            old = existing.get(item.external_id)
            app_id = ids[item.external_id]
            touched_candidates.add(candidate_ids[item.email_key])
            if old is None:
                counts.new += 1
                old_status = None
            else:
                counts.updated += 1
                old_status = old.status
                touched_candidates.add(old.candidate_id)
            if old_status == item.status:
                continue
            if item.status in ("rejected", "hired", "withdrawn"):
                setattr(counts, item.status, getattr(counts, item.status) + 1)
            if old_status == "rejected" and item.status == "in_process":
                counts.unrejected += 1
            if old_status is not None and (why := cancel_reason(old_status, item.status)):
                cancellations[why].append(app_id)
            logs.append({
                "application_id": app_id,
                "old_status": old_status,
                "new_status": item.status,
                "decided_at": item.decided_at,
                "recorded_at": now,
                "source": self.source,
                "run_id": self.run_id,
                "payload": item.raw,
            })
        insert_rows(conn, DL, logs)
        counts.notices_cancelled = self._cancel_notices(conn, cancellations, now)
        self._consents(conn, changed, candidate_ids, now)
        counts.reapplied = self._reapplications(conn, sorted(touched_candidates), now)

    # -- candidates -------------------------------------------------------------------------------

    def _candidates(self, conn: Connection, items: list[ValidApplication], now: datetime) -> dict[str, int]:
        """`email_key -> candidate id`, creating candidates and refreshing their display attributes.

        The e-mail key is the identity; phone, name and locale are attributes taken from the newest
        record that has them, and tags accumulate (sources disagree on tag vocabularies).
        """
        wanted: dict[str, dict[str, Any]] = {}
        for item in items:
            w = wanted.setdefault(item.email_key, {"display_name": None, "phone_key": None, "locale": None,
                                                   "tags": []})
            w["display_name"] = item.display_name or w["display_name"]
            w["phone_key"] = item.phone_key or w["phone_key"]
            w["locale"] = item.locale or w["locale"]
            w["tags"] = _union(w["tags"], item.tags)
        columns = [C.c.id, C.c.email_key, C.c.display_name, C.c.phone_key, C.c.locale, C.c.tags,
                   C.c.anonymized_at]
        stored = {r.email_key: r for r in select_in(conn, columns, C.c.email_key, wanted)}
        new_rows = [
            {"email_key": key, "display_name": w["display_name"], "phone_key": w["phone_key"],
             "locale": w["locale"] or "ja", "tags": w["tags"], "created_at": now, "updated_at": now}
            for key, w in wanted.items() if key not in stored
        ]
        if new_rows:
            insert_missing(conn, C, new_rows, conflict=("email_key",))
            stored.update({r.email_key: r for r in select_in(
                conn, columns, C.c.email_key, [r["email_key"] for r in new_rows])})
        updates = []
        for key, w in wanted.items():
            row = stored[key]
            if row.anonymized_at is not None:
                continue  # retention removed the personal data; an old record must not restore it
            merged = {
                "display_name": w["display_name"] or row.display_name,
                "phone_key": w["phone_key"] or row.phone_key,
                "locale": w["locale"] or row.locale,
                "tags": _union(row.tags or [], w["tags"]),
            }
            if any(merged[c] != getattr(row, c) for c in merged):
                updates.append({"row_id": row.id, **merged, "updated_at": now})
        update_by_id(conn, C, updates, ("display_name", "phone_key", "locale", "tags", "updated_at"))
        return {key: row.id for key, row in stored.items()}

    # -- outbox -----------------------------------------------------------------------------------

    def _cancel_notices(self, conn: Connection, by_reason: dict[str, list[int]], now: datetime) -> int:
        """Pending decision notices of a reversed decision are cancelled, never sent (DESIGN.md §3).

        Only `pending` rows: a row in `sending` is owned by a sender, which re-checks the status itself.
        """
        cancelled = 0
        for why, app_ids in by_reason.items():
            for part in chunks(app_ids, IN_CHUNK):
                result = conn.execute(
                    update(M)
                    .where(M.c.application_id.in_(part), M.c.state == "pending")
                    .values(state="cancelled", cancelled_reason=why, updated_at=now)
                )
                cancelled += result.rowcount or 0
        return cancelled

    # -- consents ---------------------------------------------------------------------------------

    def _consents(self, conn: Connection, items: list[ValidApplication], candidate_ids: dict[str, int],
                  now: datetime) -> None:
        """Record what this source says about consent, only when its statement changes.

        Compared with this source's own latest statement, not with the overall current state: a newer
        opt-in or opt-out made elsewhere (the unsubscribe page) must not be overwritten by an ATS
        record that merely changed for another reason.
        """
        with_consents = [i for i in items if i.consents]
        if not with_consents:
            return
        ids = [candidate_ids[i.email_key] for i in with_consents]
        latest: dict[tuple[int, str], bool] = {}
        rows = select_in(conn, [CO.c.candidate_id, CO.c.purpose, CO.c.granted, CO.c.recorded_at, CO.c.id],
                         CO.c.candidate_id, ids, CO.c.source == self.source)
        for row in sorted(rows, key=lambda r: (r.recorded_at, r.id)):
            latest[(row.candidate_id, row.purpose)] = row.granted
        inserts = []
        for item in with_consents:
            cid = candidate_ids[item.email_key]
            for purpose, granted in sorted(item.consents.items()):
                if latest.get((cid, purpose)) == granted:
                    continue
                latest[(cid, purpose)] = granted
                inserts.append({"candidate_id": cid, "purpose": purpose, "granted": granted,
                                # Without a source timestamp, consent dates from the application form.
                                "recorded_at": item.updated_at or item.applied_at or now,
                                "source": self.source,
                                "wording_version": item.wording_version})
        insert_rows(conn, CO, inserts)

    # -- re-applications --------------------------------------------------------------------------

    def _reapplications(self, conn: Connection, candidate_ids: list[int], now: datetime) -> int:
        """Flag applications made after the same candidate was rejected or withdrew (any source).

        Recomputed per touched candidate from the stored rows, so the order in which a source lists
        the old and the new application does not matter. The flag is sticky: it records a fact about
        when the application arrived, even if the earlier decision is reversed later.
        """
        columns = [A.c.id, A.c.candidate_id, A.c.status, A.c.applied_at, A.c.decided_at, A.c.created_at,
                   A.c.is_reapplication]
        by_candidate: dict[int, list[Any]] = defaultdict(list)
        for row in select_in(conn, columns, A.c.candidate_id, candidate_ids):
            by_candidate[row.candidate_id].append(row)
        updates = []
        for apps in by_candidate.values():
            if len(apps) < 2:
                continue
            for app in apps:
                if app.is_reapplication:
                    continue
                previous = find_previous(app, apps)
                if previous is not None:
                    updates.append({"row_id": app.id, "is_reapplication": True,
                                    "previous_application_id": previous, "updated_at": now})
        update_by_id(conn, A, updates, ("is_reapplication", "previous_application_id", "updated_at"))
        return len(updates)


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


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
