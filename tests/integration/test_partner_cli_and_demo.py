"""`junkan partner …` commands and the demo's partner-report generator, on the real database."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from junkan.cli.partner import app
from junkan.clock import RunClock
from junkan.db import session_scope
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral
from junkan.demo.partner_report import write_partner_report
from junkan.partner.sync import sync_partner
from tests.integration._partner_data import SECRET, SIGNER, add_notices, csv_partner, rows, write_report

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    report = tmp_path / "report.csv"
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_PARTNER__KIND", "csv")
    monkeypatch.setenv("JUNKAN_PARTNER__PATH", str(report))
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", SECRET)
    return report


def test_sync_status_redeem_and_ledger_commands(engine: Engine, env: Path) -> None:
    write_report(env, rows(add_notices(engine, 13)))

    synced = runner.invoke(app, ["sync"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.output)["careerrelay"]["credits_earned"] == 1

    status = runner.invoke(app, ["status", "--as-of", "2026-10-03"])
    assert status.exit_code == 0, status.output
    assert "careerrelay: balance 1 credit(s) (¥300,000), next credit 3 / 10" in status.output
    assert "13 this period (2026-10-01 – 2026-10-03), 13 all-time" in status.output

    redeemed = runner.invoke(app, ["redeem", "careerrelay", "--hire", "greenhouse:app:981"])
    assert redeemed.exit_code == 0, redeemed.output
    assert (
        "Redeemed credit #1 of careerrelay for hire greenhouse:app:981 (¥300,000). Balance now 0."
        in redeemed.output
    )
    repeated = runner.invoke(app, ["redeem", "careerrelay", "--hire", "greenhouse:app:981"])
    assert repeated.exit_code == 0 and "nothing changed" in repeated.output
    empty = runner.invoke(app, ["redeem", "careerrelay", "--hire", "greenhouse:app:982"])
    assert empty.exit_code == 1
    assert "cannot redeem: partner careerrelay has no credit to redeem: balance 0" in empty.output
    unknown = runner.invoke(app, ["redeem", "nosuch", "--hire", "x"])
    assert unknown.exit_code == 2 and "unknown partner 'nosuch'" in unknown.output

    shown = runner.invoke(app, ["ledger", "careerrelay"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "redeemed" in lines[0] and "-1" in lines[0] and "greenhouse:app:981" in lines[0]
    assert "earned" in lines[1] and "+1" in lines[1]
    assert lines[-1] == "balance: 0"

    as_json = runner.invoke(app, ["status", "--json"])
    data = json.loads(as_json.output)
    assert data[0]["progress"] == "3 / 10" and data[0]["credits_redeemed"] == 1


def test_demo_report_earns_credits_and_shows_one_quarantined_code(engine: Engine, tmp_path: Path) -> None:
    add_notices(engine, 40)
    add_notices(engine, 3, accepted_at=None, state="pending")  # never sent: never in the report
    now = datetime(2026, 11, 20, tzinfo=UTC)
    path = tmp_path / "partner" / "report.csv"

    written = write_partner_report(engine, path, seed=7, now=now)
    again = write_partner_report(engine, tmp_path / "again.csv", seed=7, now=now)

    assert path.read_bytes() == (tmp_path / "again.csv").read_bytes() and written == again
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert len(lines) == written
    statuses = [line["status"] for line in lines]
    assert statuses.count("registered") == 12 + 1  # 30 % of the 40 sent notices, plus the bogus code
    assert statuses.count("interviewed") < statuses.count("registered")

    stats = sync_partner(engine, csv_partner(path), verify_code=SIGNER.verify_referral_code,
                         clock=RunClock.fixed(now))

    assert stats["quarantined"] == 1 and stats["new_suspicious"] == 0
    assert stats["credits_earned"] == 1
    with session_scope(engine) as s:
        registered = select(PartnerReferral).where(PartnerReferral.status == "registered")
        assert len(s.scalars(registered).all()) == 12
        assert len(s.scalars(select(PartnerLedgerEntry)).all()) == 1


def test_a_partner_without_report_or_api_is_not_synced() -> None:
    from junkan.config import Settings
    from junkan.partner.factory import syncable_partners

    # The built-in default partner has neither a report path nor an API URL: daily must not fail on it.
    assert syncable_partners(Settings(_env_file=None)) == []  # type: ignore[call-arg]
    with_report = Settings(partner={"name": "relay", "kind": "csv", "path": "report.csv"})
    with_api = Settings(partner={"name": "relay", "kind": "http", "base_url": "http://127.0.0.1:9"})
    assert [p.name for p in syncable_partners(with_report)] == ["relay"]
    assert [p.name for p in syncable_partners(with_api)] == ["relay"]
