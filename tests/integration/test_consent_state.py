"""The current state of a consent purpose is the newest record that has not expired (junkan/consent/state.py).

Every reader (enqueue, render, re-contact, the pool) goes through these functions, so the same records must
give the same answer through each of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.config import ConsentSettings
from junkan.consent.expiry import expires_at
from junkan.consent.state import (
    current_consents,
    current_granted,
    is_granted,
    is_withdrawn,
    latest_by_candidate,
)
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent
from tests.integration._outbox_data import add_candidate

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _record(s: Session, cid: int, granted: bool, at: datetime, expires: datetime | None,
            purpose: str = "talent_pool") -> None:
    s.add(Consent(candidate_id=cid, purpose=purpose, granted=granted, recorded_at=at, source="csv",
                  expires_at=expires))
    s.flush()


def _states(s: Session, at: datetime) -> dict[int, bool | None]:
    """The answer of each reader, which must agree: {candidate: granted, None = no record counts}."""
    ids = list(s.scalars(select(Candidate.id)))
    scalar = dict(s.execute(select(Candidate.id, current_granted(Candidate.id, "talent_pool", at))).all())
    cur = current_consents(at, ["talent_pool"])
    joined = {cid: granted for cid, granted in s.execute(select(cur.c.candidate_id, cur.c.granted))}
    granted = set(s.scalars(select(Candidate.id).where(is_granted(Candidate.id, "talent_pool", at))))
    withdrawn = set(s.scalars(select(Candidate.id).where(is_withdrawn(Candidate.id, "talent_pool", at))))
    scanned = {cid: st.granted for cid, st in latest_by_candidate(s.connection(), "talent_pool", at).items()}
    for cid in ids:
        expected = joined.get(cid)
        assert scalar[cid] == expected and scanned.get(cid) == expected
        assert (cid in granted, cid in withdrawn) == (expected is True, expected is False)
    return {cid: joined.get(cid) for cid in ids}


def test_the_newest_unexpired_record_is_the_state(engine: Engine) -> None:
    with session_scope(engine) as s:
        lapsed = add_candidate(s)
        _record(s, lapsed, True, NOW - 400 * DAY, NOW - 35 * DAY)
        renewed = add_candidate(s)
        _record(s, renewed, True, NOW - 400 * DAY, NOW - 35 * DAY)
        _record(s, renewed, True, NOW - 10 * DAY, NOW + 355 * DAY)
        refused = add_candidate(s)
        _record(s, refused, True, NOW - 10 * DAY, NOW + 355 * DAY)
        _record(s, refused, False, NOW - 5 * DAY, None)
        forever = add_candidate(s)
        _record(s, forever, True, NOW - 900 * DAY, None)
        # A withdrawal stays after the newer grant lapsed: the grant no longer counts, the refusal does.
        refused_then_lapsed = add_candidate(s)
        _record(s, refused_then_lapsed, False, NOW - 500 * DAY, None)
        _record(s, refused_then_lapsed, True, NOW - 400 * DAY, NOW - 35 * DAY)
        future = add_candidate(s)
        _record(s, future, True, NOW + DAY, NOW + 366 * DAY)
        never = add_candidate(s)
        other_purpose = add_candidate(s)
        _record(s, other_purpose, True, NOW - DAY, None, purpose="recontact")

        assert _states(s, NOW) == {lapsed: None, renewed: True, refused: False, forever: True,
                                   refused_then_lapsed: False, future: None, never: None,
                                   other_purpose: None}
        # As of a year earlier, the first grants were still valid and later records did not exist yet.
        assert _states(s, NOW - 380 * DAY)[lapsed] is True
        assert _states(s, NOW - 380 * DAY)[refused_then_lapsed] is True


def test_a_grant_expires_exactly_at_its_expiry_and_ties_go_to_the_later_row(engine: Engine) -> None:
    with session_scope(engine) as s:
        cid = add_candidate(s)
        _record(s, cid, True, NOW - 365 * DAY, NOW)
        assert _states(s, NOW - timedelta(microseconds=1)) == {cid: True}
        assert _states(s, NOW) == {cid: None}
        tie = add_candidate(s)
        _record(s, tie, True, NOW - DAY, None)
        _record(s, tie, False, NOW - DAY, None)
        assert _states(s, NOW)[tie] is False


def test_expiry_is_decided_at_write_time_from_the_settings() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    consent = ConsentSettings(partner_info_days=30)
    assert expires_at("talent_pool", True, at, consent) == datetime(2027, 3, 1, tzinfo=UTC)
    assert expires_at("partner_info", True, at, consent) == datetime(2026, 3, 31, tzinfo=UTC)
    assert expires_at("recontact", True, at, consent) is None
    assert expires_at("talent_pool", False, at, consent) is None  # a refusal never lapses
