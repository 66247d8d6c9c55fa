"""Pool membership: who is in the talent pool, and why (docs/pool.md "Pool membership").

A rejected or withdrawn candidate is in the pool when all of these hold:
- no reason of theirs is `never` (spam, duplicate, misconduct: once is enough);
- their current `talent_pool` consent is a grant (current = newest unexpired record, junkan/consent/state.py;
  a grant expires `consent.talent_pool_days` after it was given, which is the pool's retention);
- they have not opted out of re-contact (current `recontact` consent is not a withdrawal);
- they are not anonymised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.models_pool import PoolMember
from junkan.ingest.upsert import insert_tuples
from junkan.pool.signals import PoolSignals

MEMBER_COLUMNS = ("candidate_id", "eligibility", "why_code", "why", "application_id", "decided_at",
                  "consent_until", "refreshed_at")

#: Reason category -> why, in the words a recruiter uses. Other categories fall back to the stage.
WHY_BY_CATEGORY: dict[str, str] = {
    "other_candidate": "他の候補者を優先",
    "position_filled": "ポジション充足",
    "final_interview": "最終面接まで進んだ",
    "timing": "時期が合わなかった",
    "compensation": "条件が合わなかった",
    "location": "勤務地が合わなかった",
    "withdrawn": "ご本人が辞退",
    "language": "語学要件",
    "experience": "経験不足（当時）",
    "skills": "スキル不足（当時）",
    "culture_fit": "カルチャーフィット",
    "no_show": "面接欠席",
    "other": "総合判断",
}


@dataclass(frozen=True, slots=True)
class Membership:
    mask: np.ndarray
    why_code: list[str]
    why: list[str]
    consent_until: list[datetime | None]

    @property
    def size(self) -> int:
        return int(self.mask.sum())


def pool_membership(signals: PoolSignals, settings: Settings, now: datetime) -> Membership:
    """Who is in the pool. `signals` were read as of `now`, so a lapsed grant is no grant any more; a
    member's `consent_until` is their grant's own expiry."""
    until = signals.talent_pool_until
    mask = (
        ~signals.any_never
        & signals.talent_pool_granted
        & (signals.recontact_consent != 0)
        & ~signals.anonymized
    )
    # A final interview says more than the reason's own category, unless that says the most already.
    telling = ("other_candidate", "position_filled", "final_interview")
    why_code = [code if code in telling or level < 3 else "final_interview"
                for code, level in zip(signals.category, signals.max_stage_level.tolist(), strict=True)]
    other = WHY_BY_CATEGORY["other"]
    why = [WHY_BY_CATEGORY.get(code, other) for code in why_code]
    return Membership(mask=mask, why_code=why_code, why=why, consent_until=until)


def store_members(session: Session, signals: PoolSignals, membership: Membership, now: datetime) -> int:
    """Replace the pool_member snapshot with this one (the pool is a view of today, not a history)."""
    session.execute(delete(PoolMember))
    members = np.flatnonzero(membership.mask).tolist()
    ids, app_ids = signals.candidate_ids.tolist(), signals.app_id.tolist()
    insert_tuples(session.connection(), PoolMember.__table__, MEMBER_COLUMNS, [
        (ids[i], signals.eligibility[i], membership.why_code[i], membership.why[i], app_ids[i],
         signals.decided_at[i], membership.consent_until[i], now)
        for i in members
    ])
    return len(members)
