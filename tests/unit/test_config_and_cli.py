"""Settings from env and junkan.toml; the CLI's contract for operators."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkan.cli import app
from junkan.config import Settings


def test_nested_env_vars_and_secret_masking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUNKAN_ATS__KIND", "greenhouse")
    monkeypatch.setenv("JUNKAN_ATS__CLIENT_SECRET", "gh-very-secret")
    monkeypatch.setenv("JUNKAN_DATABASE_URL", "postgresql+psycopg://u@h/db")
    s = Settings()
    assert s.ats.kind == "greenhouse"
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.ats.client_secret is not None and s.ats.client_secret.get_secret_value() == "gh-very-secret"
    assert "gh-very-secret" not in repr(s) and "gh-very-secret" not in str(s.model_dump())


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junkan.toml").write_text(
        'database_url = "sqlite:///from-file.db"\n[ats]\nkind = "lever"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JUNKAN_ATS__BASE_URL", "http://127.0.0.1:8")
    s = Settings()
    assert s.database_url == "sqlite:///from-file.db"
    assert s.ats.kind == "lever"
    assert s.ats.base_url == "http://127.0.0.1:8"


def test_invalid_ats_kind_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUNKAN_ATS__KIND", "workday")
    with pytest.raises(ValueError, match="csv', 'greenhouse' or 'lever'"):
        Settings()


def test_cli_lists_flows_in_daily_order() -> None:
    result = CliRunner().invoke(app, ["flows"])
    assert result.exit_code == 0
    names = result.output.split()
    # daily's sequence, daily itself, then the flows on their own schedule (roi-report).
    assert names[0] == "ingest-decisions" and names[-2:] == ["daily", "roi-report"]


def test_cli_run_unknown_flow_exits_2_with_the_known_names() -> None:
    result = CliRunner().invoke(app, ["run", "no-such-flow"])
    assert result.exit_code == 2
    assert "unknown flow 'no-such-flow'" in result.output
    assert "ingest-decisions" in result.output


def test_cli_rejects_a_bad_as_of_date() -> None:
    result = CliRunner().invoke(app, ["run", "ingest-decisions", "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert "expected YYYY-MM-DD" in result.output


def test_db_upgrade_creates_the_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    monkeypatch.setenv("JUNKAN_DATABASE_URL", f"sqlite:///{db}")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert db.exists() and "upgraded" in result.output


def test_web_refuses_a_public_interface_with_the_default_link_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JUNKAN_LINKS__SECRET", raising=False)
    result = CliRunner().invoke(app, ["web", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "default JUNKAN_LINKS__SECRET" in result.output
