"""Operator mistakes end in one line that says what to do, never in a traceback (both dialects).

A database never migrated (or behind this Junkan), a database URL with the wrong port, and an empty
--email each stop the command before any work, with exit status 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from typer.testing import CliRunner

from junkan.cli import app
from junkan.db.engine import alembic_config
from junkan.db.schema import required_revisions
from tests.empty_database import empty_database

runner = CliRunner()
(HEAD,) = required_revisions()


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("args", [["pool", "list"], ["outbox", "list"], ["report", "--from", "2026-10-01",
                                                                         "--to", "2026-10-31"]])
def test_a_command_on_a_database_never_migrated_says_to_run_db_upgrade(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", empty_url)

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert _one_line(result.output) == (f"junkan: the database is at revision none (never migrated), this "
                                        f"Junkan needs {HEAD}: run `junkan db upgrade`")


def test_a_database_one_revision_behind_names_both_revisions(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.upgrade(alembic_config(empty_url), "0011_report_covering")
    monkeypatch.setenv("JUNKAN_DATABASE_URL", empty_url)

    behind = runner.invoke(app, ["pool", "list"])
    upgraded = runner.invoke(app, ["db", "upgrade"])
    after = runner.invoke(app, ["pool", "list"])

    assert behind.exit_code == 2
    assert _one_line(behind.output) == (f"junkan: the database is at revision 0011_report_covering, this "
                                        f"Junkan needs {HEAD}: run `junkan db upgrade`")
    assert upgraded.exit_code == 0 and after.exit_code == 0, after.output


def test_db_upgrade_with_a_wrong_port_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", "postgresql+psycopg://junkan:s3cret@127.0.0.1:5433/junkan")

    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == 2
    line = _one_line(result.output)
    assert line.startswith("junkan: cannot connect to the database postgresql+psycopg://junkan:***@127.0.0.1:"
                           "5433/junkan: ")
    assert "5433" in line
    assert line.endswith("check JUNKAN_DATABASE_URL and that the database server is running")
    assert "s3cret" not in result.output


def test_privacy_export_with_an_empty_email_is_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)

    result = runner.invoke(app, ["privacy", "export", "--email", "", "--out", str(tmp_path / "x.json")])

    assert result.exit_code == 2
    assert _one_line(result.output) == "junkan privacy export: --email is empty"
    assert not (tmp_path / "x.json").exists()
