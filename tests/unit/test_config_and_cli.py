"""Settings from env and junkan.toml; the CLI's contract for operators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkan.cli import app
from junkan.config import NOT_SETTINGS, ConfigError, Settings, get_settings


def test_nested_env_vars_and_secret_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_ATS__KIND", "greenhouse")
    monkeypatch.setenv("JUNKAN_ATS__CLIENT_SECRET", "gh-very-secret")
    monkeypatch.setenv("JUNKAN_DATABASE_URL", "postgresql+psycopg://u@h/db")
    s = Settings()
    assert s.ats.kind == "greenhouse"
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.ats.client_secret is not None and s.ats.client_secret.get_secret_value() == "gh-very-secret"
    assert "gh-very-secret" not in repr(s) and "gh-very-secret" not in str(s.model_dump())


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "junkan.toml").write_text(
        'database_url = "sqlite:///from-file.db"\n[ats]\nkind = "lever"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JUNKAN_ATS__BASE_URL", "http://127.0.0.1:8")
    s = Settings()
    assert s.database_url == "sqlite:///from-file.db"
    assert s.ats.kind == "lever"
    assert s.ats.base_url == "http://127.0.0.1:8"


def _problems() -> list[str]:
    with pytest.raises(ConfigError) as caught:
        get_settings()
    return list(caught.value.problems)


def test_the_suite_runs_in_an_empty_directory_without_junkan_variables(tmp_path: Path) -> None:
    # The autouse fixture in tests/conftest.py: an operator's ./junkan.toml or shell never leaks in.
    assert Path.cwd() == tmp_path
    leaked = [n for n in os.environ if n.upper().startswith("JUNKAN_") and n != "JUNKAN_TEST_DATABASE_URL"]
    assert leaked == []


def test_config_file_is_looked_up_when_settings_are_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = tmp_path / "first.toml"
    first.write_text('[mail]\nbackend = "smtp"\n', encoding="utf-8")
    second = tmp_path / "second.toml"
    second.write_text('[mail]\nbackend = "sendgrid"\n', encoding="utf-8")
    monkeypatch.setenv("JUNKAN_CONFIG_FILE", str(first))
    assert get_settings().mail.backend == "smtp"
    monkeypatch.setenv("JUNKAN_CONFIG_FILE", str(second))
    assert get_settings().mail.backend == "sendgrid"
    monkeypatch.delenv("JUNKAN_CONFIG_FILE")
    assert get_settings().mail.backend == "file"  # no ./junkan.toml here: the defaults
    (tmp_path / "junkan.toml").write_text('[mail]\nbackend = "smtp"\n', encoding="utf-8")
    assert get_settings().mail.backend == "smtp"


def test_a_config_file_variable_naming_a_missing_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUNKAN_CONFIG_FILE", str(tmp_path / "junkan.tmol"))
    missing = tmp_path / "junkan.tmol"
    assert _problems() == [f"JUNKAN_CONFIG_FILE: {missing} does not exist (or is not a file)"]
    with pytest.raises(ConfigError, match="does not exist"):
        Settings()


def test_unknown_keys_in_the_file_are_refused_at_every_level(tmp_path: Path) -> None:
    (tmp_path / "junkan.toml").write_text(
        'databse_url = "sqlite:///x.db"\n[mail]\nbackedn = "smtp"\n[notic]\ntimezone = "UTC"\n'
        '[[partners]]\nname = "a"\n[[partners]]\nname = "b"\nkinf = "http"\n',
        encoding="utf-8",
    )
    assert _problems() == [
        "junkan.toml: unknown setting databse_url (did you mean database_url?)",
        "junkan.toml: unknown setting mail.backedn (did you mean mail.backend?)",
        "junkan.toml: unknown setting notic (did you mean notice?)",
        "junkan.toml: unknown setting partners[1].kinf (did you mean partners.kind?)",
    ]


def test_unknown_junkan_variables_are_refused_with_the_closest_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_MAIL__BACKEDN", "smtp")
    monkeypatch.setenv("junkan_mail_backend", "smtp")  # names are case-insensitive, like pydantic's
    monkeypatch.setenv("JUNKAN_DATABASE_URL", "sqlite:///ok.db")  # a valid one is not reported
    monkeypatch.setenv("JUNKAN_HOME", "/srv/junkan")  # not a setting, but used by the deployments
    assert _problems() == [
        "JUNKAN_MAIL__BACKEDN: unknown setting (did you mean JUNKAN_MAIL__BACKEND?)",
        "junkan_mail_backend: unknown setting (did you mean JUNKAN_MAIL__BACKEND?)",
    ]


def test_consent_validity_per_purpose_and_a_bad_value_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKAN_CONSENT__PARTNER_INFO_DAYS", "90")
    consent = get_settings().consent
    assert (consent.validity_days("talent_pool"), consent.validity_days("partner_info"),
            consent.validity_days("recontact"), consent.renewal_enabled, consent.renewal_days_before) == \
        (365, 90, None, False, 7)
    monkeypatch.setenv("JUNKAN_CONSENT__RENEWAL_DAYS_BEFORE", "0")
    with pytest.raises(ConfigError) as refused:
        get_settings()
    assert refused.value.problems[0].startswith("JUNKAN_CONSENT__RENEWAL_DAYS_BEFORE:")


def test_variables_that_are_not_settings_are_an_explicit_list() -> None:
    assert frozenset({"JUNKAN_CONFIG_FILE", "JUNKAN_TEST_DATABASE_URL", "JUNKAN_HOME"}) == NOT_SETTINGS


def test_a_bad_value_names_the_setting_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "junkan.toml").write_text('[mail]\nworkers = "eight"\n', encoding="utf-8")
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "smpt")
    monkeypatch.setenv("JUNKAN_ATS__KIND", "workday")
    monkeypatch.setenv("JUNKAN_PARTNERS", '[{"name": "a", "kind": "htp"}]')
    problems = _problems()
    assert problems == [
        "JUNKAN_ATS__KIND: 'workday' is not one of csv, greenhouse, lever",
        "JUNKAN_MAIL__BACKEND: 'smpt' is not one of sendgrid, smtp, file (did you mean smtp?)",
        "junkan.toml: mail.workers: 'eight' is not valid: input should be a valid integer, "
        "unable to parse string as an integer",
        "JUNKAN_PARTNERS (partners[0].kind): 'htp' is not one of http, csv (did you mean http?)",
    ]


def test_a_bad_secret_value_is_not_repeated(tmp_path: Path) -> None:
    (tmp_path / "junkan.toml").write_text("[links]\nsecret = 123456789\n", encoding="utf-8")
    assert _problems() == ["junkan.toml: links.secret: (secret) is not valid: input should be a valid string"]


def test_a_file_that_is_not_toml_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "junkan.toml").write_text("[mail\nbackend = 'smtp'\n", encoding="utf-8")
    (problem,) = _problems()
    assert problem.startswith("junkan.toml: not valid TOML: ")


def test_the_cli_refuses_a_bad_configuration_in_a_few_lines_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "junkan.toml").write_text('[mail]\nbackedn = "smtp"\n', encoding="utf-8")
    monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "smpt")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "junkan: the configuration is refused:",
        "  junkan.toml: unknown setting mail.backedn (did you mean mail.backend?)",
        "  JUNKAN_MAIL__BACKEND: 'smpt' is not one of sendgrid, smtp, file (did you mean smtp?)",
    ]
    assert "Traceback" not in result.output and not (tmp_path / "junkan.db").exists()


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


def test_web_refuses_a_public_interface_with_the_default_link_secret() -> None:
    result = CliRunner().invoke(app, ["web", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "default JUNKAN_LINKS__SECRET" in result.output


@pytest.mark.parametrize(("toml", "env", "expected"), [
    pytest.param(
        "[recontact]\npool_consent_days = 200\n", ("JUNKAN_RECONTACT__POOL_CONSENT_DAYS", "200"),
        ["JUNKAN_RECONTACT__POOL_CONSENT_DAYS: unknown setting "
         "(it moved: use JUNKAN_CONSENT__TALENT_POOL_DAYS)",
         f"{Path('junkan.toml')}: unknown setting recontact.pool_consent_days "
         "(it moved: use consent.talent_pool_days)"],
        id="pool-consent-days-is-now-consent-talent-pool-days",
    ),
    pytest.param(
        '[notice]\ntimezone = "Asia/Tokyo"\n', ("JUNKAN_NOTICE__TIMEZONE", "Asia/Tokyo"),
        ["JUNKAN_NOTICE__TIMEZONE: unknown setting (it moved: use JUNKAN_BUSINESS__TIMEZONE)",
         f"{Path('junkan.toml')}: unknown setting notice.timezone (it moved: use business.timezone)"],
        id="notice-timezone-is-now-business-timezone",
    ),
])
def test_a_moved_setting_is_refused_with_its_new_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, env: tuple[str, str], expected: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junkan.toml").write_text(toml, encoding="utf-8")
    monkeypatch.setenv(*env)
    assert _problems() == expected


def test_one_business_time_zone_reaches_the_window_and_the_date_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from junkan.mail.sender_identity import SenderHeaders

    monkeypatch.setenv("JUNKAN_BUSINESS__TIMEZONE", "Europe/Berlin")
    settings = get_settings()
    assert settings.notice.timezone == "Europe/Berlin"
    assert SenderHeaders.from_settings(settings).timezone == "Europe/Berlin"
    monkeypatch.setenv("JUNKAN_BUSINESS__TIMEZONE", "Asia/Tokio")
    (problem,) = _problems()
    assert problem.startswith("JUNKAN_BUSINESS__TIMEZONE")
    assert "not a time zone of the IANA database" in problem
