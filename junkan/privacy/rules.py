"""Who is due for anonymisation, one bulk query per rule (docs/privacy.md, Retention).

- `rejected_days`: every application of the candidate is rejected or withdrawn, the candidate has no
  current `talent_pool` consent (junkan.consent.state: the newest unexpired record), and the last decision
  or application lies N days back, N per source (`retention.sources`, else `retention.rejected_days`).
  A new application restarts the clock; an application in process holds it.
- `pool_expired`: the same, for a candidate whose `talent_pool` grant expired without renewal: the
  consent kept them past N days, and they go on the local day its `expires_at` falls in (a grant ending
  at 2026-12-01 00:00 JST goes on the run of 1 December, not on 30 November).
- Hired candidates are never touched: one hired application keeps the candidate out of both rules.

"N days after" is counted in business-zone calendar days (`business.timezone`, Asia/Tokyo by default): a
decision on local day D is due on the run whose `as_of` is D + N, not on D + N - 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, func, not_, or_, select, true
from sqlalchemy.orm import aliased

from junkan.config import RetentionSettings
from junkan.consent.state import is_granted
from junkan.db.models import Application, Candidate, Consent

RULES = ("rejected_days", "pool_expired")
CLOSED = ("rejected", "withdrawn")


@dataclass(frozen=True, slots=True)
class Judgement:
    """The day the rules judge by and the instants that follow from it."""

    as_of: date
    tz: tzinfo

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(UTC)

    @property
    def at(self) -> datetime:
        """The last instant of `as_of` (local), where consent is judged: a grant recorded that day counts,
        and a grant goes on the local day its expiry falls in."""
        return self.day_start(self.as_of + timedelta(days=1)) - timedelta(microseconds=1)

    def last_fresh(self, days: int) -> datetime:
        """Activity at or after this instant is fewer than `days` local days before `as_of`."""
        return self.day_start(self.as_of - timedelta(days=days - 1))


def _fresh(a: Any, since: datetime) -> ColumnElement[bool]:
    """`a` (Application or an alias) was decided or applied for at or after `since`."""
    return or_(a.decided_at >= since, a.applied_at >= since,
               and_(a.decided_at.is_(None), a.applied_at.is_(None), a.created_at >= since))


def _holds_clock(settings: RetentionSettings, judgement: Judgement) -> ColumnElement[bool]:
    """An application that keeps its candidate: open, hired, or with recent activity for its source."""
    a = aliased(Application)
    overridden = sorted(settings.sources)
    recent = [and_(a.source == source, _fresh(a, judgement.last_fresh(settings.rejected_days_for(source))))
              for source in overridden]
    recent.append(and_(a.source.not_in(overridden) if overridden else true(),
                       _fresh(a, judgement.last_fresh(settings.rejected_days))))
    return exists().where(a.candidate_id == Candidate.id, or_(a.status.not_in(CLOSED), *recent))


def _pool_grant_lapsed(judgement: Judgement) -> ColumnElement[bool]:
    c = aliased(Consent)
    return exists().where(c.candidate_id == Candidate.id, c.purpose == "talent_pool", c.granted.is_(True),
                          c.expires_at.is_not(None), c.expires_at <= judgement.at)


def due_query(rule: str, settings: RetentionSettings, judgement: Judgement) -> Select[int]:
    """Ids of the candidates `rule` anonymises on `judgement.as_of`, in id order."""
    if rule not in RULES:
        raise ValueError(f"unknown retention rule {rule!r}; rules: {', '.join(RULES)}")
    lapsed = _pool_grant_lapsed(judgement)
    return (
        select(Candidate.id)
        .where(
            Candidate.anonymized_at.is_(None),
            exists().where(Application.candidate_id == Candidate.id),
            not_(_holds_clock(settings, judgement)),
            not_(is_granted(Candidate.id, "talent_pool", judgement.at)),
            lapsed if rule == "pool_expired" else not_(lapsed),
        )
        .order_by(Candidate.id)
    )


def due(conn: Connection, settings: RetentionSettings, judgement: Judgement) -> dict[str, list[int]]:
    """{rule: candidate ids due}, every rule."""
    return {rule: list(conn.execute(due_query(rule, settings, judgement)).scalars()) for rule in RULES}


def due_counts(conn: Connection, settings: RetentionSettings, judgement: Judgement) -> dict[str, int]:
    return {rule: conn.execute(select(func.count()).select_from(due_query(rule, settings, judgement)
                                                                .subquery())).scalar_one()
            for rule in RULES}
