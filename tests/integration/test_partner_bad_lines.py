"""A partner report's bad lines are quarantined and the rest of the report still counts (both dialects).

docs/partner.md promises per-line quarantine: a date no datetime can hold, a cell past the csv module's
field limit, or a registration dated years ahead must cost that line only, never the whole sync.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from junkan.db import session_scope
from junkan.db.models import Quarantine
from junkan.db.models_partner import PartnerReferral
from junkan.partner.sync import sync_partner
from tests.integration._partner_data import SIGNER, add_notices, csv_partner, rows, write_report

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def _sync(engine: Engine, path: Path) -> dict[str, int]:
    partner = csv_partner(path, timezone="Asia/Tokyo")
    return sync_partner(engine, partner, verify_code=SIGNER.verify_referral_code, now=NOW)


def _quarantine(engine: Engine) -> dict[str | None, str]:
    with session_scope(engine) as s:
        return {q.external_id: q.reason for q in s.scalars(select(Quarantine))}


def _stored(engine: Engine) -> set[str]:
    with session_scope(engine) as s:
        return set(s.scalars(select(PartnerReferral.ref_code)))


def test_a_line_dated_year_1_or_9999_is_quarantined_and_the_others_count(
    engine: Engine, tmp_path: Path
) -> None:
    codes = add_notices(engine, 4)
    data = [*rows(codes[:2]), [codes[2], "registered", "0001-01-01"], [codes[3], "登録", "9999-12-31 23:59"]]

    stats = _sync(engine, write_report(tmp_path / "report.csv", data))

    assert (stats["new_referrals"], stats["quarantined"]) == (2, 2)
    assert _stored(engine) == set(codes[:2])
    reasons = _quarantine(engine)
    assert "occurred_at" in reasons[codes[2]] and "1990" in reasons[codes[2]]
    assert "occurred_at" in reasons[codes[3]] and "future" in reasons[codes[3]]


def test_a_2_mb_cell_is_quarantined_with_its_line_and_the_others_count(
    engine: Engine, tmp_path: Path
) -> None:
    codes = add_notices(engine, 3)
    data = [*rows(codes[:1]), [codes[1], "registered", "x" * 2_000_000], *rows(codes[2:])]

    stats = _sync(engine, write_report(tmp_path / "report.csv", data))

    assert (stats["new_referrals"], stats["quarantined"]) == (2, 1)
    assert _stored(engine) == {codes[0], codes[2]}
    (reason,) = _quarantine(engine).values()
    assert reason.startswith("report.csv line 3:") and "larger than 131,072 characters" in reason
    assert len(reason) < 300


def test_a_registration_dated_2099_is_quarantined_not_counted(engine: Engine, tmp_path: Path) -> None:
    codes = add_notices(engine, 2)
    data = rows(codes[:1]) + rows(codes[1:], when=datetime(2099, 4, 1, tzinfo=UTC))

    stats = _sync(engine, write_report(tmp_path / "report.csv", data))

    assert (stats["new_referrals"], stats["quarantined"]) == (1, 1)
    assert _stored(engine) == {codes[0]}
    assert "in the future" in _quarantine(engine)[codes[1]]
