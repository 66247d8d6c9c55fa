"""`sync-partner-stats` end to end: CSV reports → ledger → returned counts and the published artifact."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from flows.sync_partner_stats import ARTIFACT_KEY, PartnerSyncFailed, sync_partner_stats
from tests.flows._artifacts import newest_text
from tests.integration._partner_data import SECRET, add_notices, forged_code, rows, write_report


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", SECRET)


def test_sync_partner_stats_updates_the_ledger_and_publishes_the_artifact(
    engine: Engine, env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = add_notices(engine, 27)
    report = write_report(
        tmp_path / "report.csv",
        rows(codes)
        + rows(codes[:3], "interviewed")
        + [[forged_code(), "registered", "2026-10-03T00:00:00Z"]],
    )
    monkeypatch.setenv("JUNKAN_PARTNER__KIND", "csv")
    monkeypatch.setenv("JUNKAN_PARTNER__PATH", str(report))

    result = sync_partner_stats(as_of=date(2026, 10, 20))

    assert result == {
        "partners": 1,
        "fetched": 31,
        "new_referrals": 30,
        "quarantined": 1,
        "new_suspicious": 0,
        "credits_earned": 2,
        "credits_expired": 0,
        "balance": 2,
        "value_yen": 600_000,
    }
    markdown = newest_text(ARTIFACT_KEY)
    assert "Period: 2026-10-01 – 2026-10-20" in markdown
    assert "| careerrelay | 27 | 27 | 3 | 0 | 2 | 0 | 0 | 2 | 7 / 10 | ¥600,000 |" in markdown
    assert "1 reported item(s) in quarantine" in markdown
    assert all(code not in markdown for code in codes)  # opaque or not, codes stay out of artifacts

    # Nothing new arrived: the run changes nothing.
    again = sync_partner_stats(as_of=date(2026, 10, 20))
    assert again["new_referrals"] == 0 and again["credits_earned"] == 0 and again["balance"] == 2


def test_one_failing_partner_fails_the_run_but_the_others_are_synced(
    engine: Engine, env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = add_notices(engine, 10, partner="careerrelay")
    good = write_report(tmp_path / "good.csv", rows(codes))
    monkeypatch.setenv(
        "JUNKAN_PARTNERS",
        json.dumps(
            [
                {"name": "careerrelay", "kind": "csv", "path": str(good)},
                {
                    "name": "nextstep",
                    "kind": "csv",
                    "path": str(tmp_path / "missing.csv"),
                    "registrations_per_credit": 5,
                },
            ]
        ),
    )

    state = sync_partner_stats(as_of=date(2026, 10, 20), return_state=True)

    assert state.is_failed()
    with pytest.raises(PartnerSyncFailed, match="partner sync failed: nextstep"):
        state.result()
    markdown = newest_text(ARTIFACT_KEY)
    assert "| careerrelay | 10 | 10 | 0 | 0 | 1 | 0 | 0 | 1 | 0 / 10 | ¥300,000 |" in markdown
    failed = "| nextstep （**取り込み失敗** / **sync failed**） | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 " \
        "| 0 / 5 | ¥0 |"
    assert failed in markdown
    assert "Sync failed for: nextstep" in markdown
