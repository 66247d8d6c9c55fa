"""The retention run (the `retention` flow, `junkan privacy due`); erasure is in junkan.privacy.erasure.

Each rule's due candidates are scrubbed in batches of `retention.batch_size`, one transaction each: the
scrub, the tombstones and the rule's audit counts commit together, so a crash leaves whole batches and a
re-run picks up the rest (an anonymised candidate is never due again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, String, and_, cast, func, select, update

from junkan import tombstone
from junkan.batching import batched
from junkan.clock import RunClock
from junkan.config import Settings
from junkan.consent.state import current_consents
from junkan.consent.suppressed import hash_plain_rows
from junkan.db import session_scope
from junkan.db.results import rows_affected
from junkan.privacy import audit
from junkan.privacy.anonymise import load_people, people_of, scrub
from junkan.privacy.rules import RULES, Judgement, due, due_counts
from junkan.privacy.tables import table

#: The audit rule of the quarantine's own retention (records that never became an application).
STALE_QUARANTINE = "stale_quarantine"


def judgement_for(clock: RunClock) -> Judgement:
    """Rules are judged on the run's day in the business time zone."""
    return Judgement(as_of=clock.day, tz=clock.zone)


def renewals_due(conn: Connection, settings: Settings, judgement: Judgement) -> int:
    """Current `talent_pool` grants that lapse within `consent.renewal_days_before` days: the renewal
    mails due (sent by the consent renewal job when `consent.renewal_enabled`)."""
    current = current_consents(judgement.at, ["talent_pool"])
    horizon = judgement.at + timedelta(days=settings.consent.renewal_days_before)
    return int(conn.execute(select(func.count()).select_from(current).where(and_(
        current.c.granted.is_(True), current.c.expires_at.is_not(None),
        current.c.expires_at > judgement.at, current.c.expires_at <= horizon))).scalar_one())


def due_summary(engine: Engine, settings: Settings, clock: RunClock) -> dict[str, int]:
    """{rule: candidates due, "renewals": renewal mails due}. Read-only."""
    judgement = judgement_for(clock)
    with engine.connect() as conn:
        counts = due_counts(conn, settings.retention, judgement)
        counts["renewals"] = renewals_due(conn, settings, judgement)
    return counts


@dataclass(frozen=True, slots=True)
class RetentionResult:
    as_of: date
    #: Candidates anonymised (or, in a dry run, due) per rule.
    by_rule: dict[str, int]
    #: Rows scrubbed or deleted per table, over all rules.
    tables: dict[str, int]
    suppressions_hashed: int
    dry_run: bool

    def counts(self) -> dict[str, int]:
        return {**{f"anonymised_{rule}": n for rule, n in self.by_rule.items()},
                "suppressions_hashed": self.suppressions_hashed,
                **{f"rows_{name}": n for name, n in sorted(self.tables.items())}}


def run_retention(engine: Engine, settings: Settings, clock: RunClock, *,
                  dry_run: bool = False) -> RetentionResult:
    judgement = judgement_for(clock)
    now = clock.now()
    key = settings.retention.key_bytes()
    with engine.connect() as conn:
        due_ids = due(conn, settings.retention, judgement)
    if dry_run:
        return RetentionResult(judgement.as_of, {r: len(ids) for r, ids in due_ids.items()}, {}, 0, True)
    with session_scope(engine) as session:
        hashed = hash_plain_rows(session, key)
    by_rule = {rule: 0 for rule in RULES}
    tables: dict[str, int] = {}
    for rule in RULES:
        ids = due_ids[rule]
        if not ids:
            continue
        audit_id: int | None = None
        for batch in batched(ids, settings.retention.batch_size):
            with engine.begin() as conn:
                if audit_id is None:
                    audit_id = audit.open_record(conn, action="anonymise", rule=rule, as_of=judgement.as_of,
                                                 at=now)
                people, keys = load_people(conn, batch)
                tombstone.leave(conn, keys, email_hash=None, audit_id=audit_id, at=now)
                counts = scrub(conn, people_of(people, keys, key), at=now)
                audit.add_counts(conn, audit_id, len(batch), counts)
            by_rule[rule] += len(batch)
            for name, n in counts.items():
                tables[name] = tables.get(name, 0) + n
    with engine.begin() as conn:
        stale = scrub_stale_quarantine(conn, judgement.last_fresh(settings.retention.rejected_days))
        if stale:
            audit_id = audit.open_record(conn, action="anonymise", rule=STALE_QUARANTINE,
                                         as_of=judgement.as_of, at=now)
            audit.add_counts(conn, audit_id, 0, {"quarantine": stale})
            tables["quarantine"] = tables.get("quarantine", 0) + stale
    return RetentionResult(judgement.as_of, by_rule, tables, hashed, False)


def scrub_stale_quarantine(conn: Connection, before: datetime) -> int:
    """Empty the raw record of quarantined records last seen before `before`; returns how many.

    A broken record never became an application, so no candidate rule reaches it, and one without a
    usable address cannot be found by one either: it would keep a name and a phone forever. Not seen
    again for `retention.rejected_days`, it is not being fixed at the source; its reason and counts stay.
    """
    q = table("quarantine")
    return rows_affected(conn.execute(update(q).where(q.c.last_seen < before, cast(q.c.raw, String) != "{}")
                                      .values(raw={})))
