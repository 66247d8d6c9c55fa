"""Settings that cannot work are refused before anything runs, one line each, naming the setting.

A time zone is checked against the zone database, every number has a floor and a ceiling (a retention
of 99,999,999,999,999 days overflowed `timedelta` mid-run; 0 mail workers was silently raised to 1), and a
live send needs secrets of the operator's own that are long enough to be secrets.
"""

from __future__ import annotations

import typing

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from junkan.config import ConfigError, Settings, get_settings
from junkan.mail.identity_guard import SampleIdentityError, refuse_sample_identity, sample_identity_values
from tests.mail_support import live_identity


def _refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        get_settings()
    (line,) = caught.value.problems
    return line


@pytest.mark.parametrize(("name", "value", "says"), [
    ("JUNKAN_BUSINESS__TIMEZONE", "Mars/Olympus", "'Mars/Olympus' is not valid: not a time zone of the IANA "
                                                "database (e.g. Asia/Tokyo"),
    ("JUNKAN_PARTNER__TIMEZONE", "Asia/Tokio", "'Asia/Tokio' is not valid: not a time zone of the IANA"),
    ("JUNKAN_RETENTION__REJECTED_DAYS", "99999999999999", "input should be less than or equal to 3650"),
    ("JUNKAN_MAIL__WORKERS", "0", "input should be greater than or equal to 1"),
    ("JUNKAN_WEBHOOK__MAX_AGE_S", "-1", "input should be greater than or equal to 1"),
    ("JUNKAN_MAIL__SMTP_PORT", "70000", "input should be less than or equal to 65535"),
    ("JUNKAN_CONSENT__TALENT_POOL_DAYS", "1000000", "input should be less than or equal to 3650"),
    ("JUNKAN_NOTICE__WINDOW_END", "08:00",
     "'08:00' is not valid: the sending window must close after it opens (window_start 09:00)"),
    ("JUNKAN_NOTICE__EXTRA_CLOSED_DAYS", '["13-45"]', "'13-45' is not a valid MM-DD day (e.g. 12-31)"),
])
def test_an_impossible_value_is_refused_in_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    line = _refused(monkeypatch, name, value)
    assert line.startswith((f"{name}: ", f"{name} (")) and says in line


def test_a_time_zone_path_outside_the_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # zoneinfo would read a file by that relative name; the check must not accept ../ tricks or blanks.
    assert "not a time zone" in _refused(monkeypatch, "JUNKAN_BUSINESS__TIMEZONE", "../../etc/passwd")
    assert "not a time zone" in _refused(monkeypatch, "JUNKAN_BUSINESS__TIMEZONE", "")


def _numeric_fields(model: type[BaseModel], prefix: str = "") -> typing.Iterator[tuple[str, list[object]]]:
    for name, field in model.model_fields.items():
        args = typing.get_args(field.annotation) or (field.annotation,)
        nested = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        inner = [typing.get_args(a)[0] for a in args if typing.get_origin(a) in (list, dict)]
        inner += [typing.get_args(a)[1] for a in args if typing.get_origin(a) is dict]
        for sub in nested + [a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)]:
            yield from _numeric_fields(sub, f"{prefix}{name}.")
        if any(a in (int, float) for a in args) and not any(a is bool for a in args):
            yield f"{prefix}{name}", list(field.metadata)


def test_every_numeric_setting_has_a_floor_and_a_ceiling() -> None:
    fields = dict(_numeric_fields(Settings))
    assert len(fields) > 40
    floors = {name for name, meta in fields.items() if any(isinstance(m, Ge | Gt) for m in meta)}
    ceilings = {name for name, meta in fields.items() if any(isinstance(m, Le | Lt) for m in meta)}
    unbounded = sorted(set(fields) - (floors & ceilings))
    assert unbounded == []


def _live(**overrides: object) -> Settings:
    values = live_identity({"backend": "sendgrid"})
    for section, changes in overrides.items():
        values[section] = {**values.get(section, {}), **typing.cast(dict[str, object], changes)}
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def test_a_live_send_with_the_demo_hash_key_or_a_short_secret_is_refused() -> None:
    assert sample_identity_values(_live()) == []
    demo_key = _live(retention={"hash_key": "change-me-in-production-retention"})
    short = _live(links={"secret": "x", "fallback_secrets": ["y" * 31]}, retention={"hash_key": "k" * 31})

    assert sample_identity_values(demo_key) == [
        "JUNKAN_RETENTION__HASH_KEY is still the shipped sample; set it before sending live mail"]
    assert sample_identity_values(short) == [
        "JUNKAN_LINKS__SECRET is 1 byte long; use a random secret of at least 32 bytes before sending "
        "live mail",
        "JUNKAN_LINKS__FALLBACK_SECRETS holds a secret of 31 bytes; use random secrets of at least 32 "
        "bytes before sending live mail",
        "JUNKAN_RETENTION__HASH_KEY is 31 bytes long; use a random secret of at least 32 bytes before "
        "sending live mail",
    ]
    with pytest.raises(SampleIdentityError):
        refuse_sample_identity(short, "sendgrid")
    refuse_sample_identity(short, "file")  # delivers nothing: the demo keeps working


def test_report_recipients_are_addresses_listed_once_and_a_bad_one_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUNKAN_REPORT__RECIPIENTS",
                       " Keiei@Example.co.jp, jinji@example.co.jp,keiei@example.co.jp")
    assert get_settings().report.recipients == ["keiei@example.co.jp", "jinji@example.co.jp"]
    monkeypatch.setenv("JUNKAN_REPORT__RECIPIENTS", '["jinji@example.co.jp"]')
    assert get_settings().report.recipients == ["jinji@example.co.jp"]
    line = _refused(monkeypatch, "JUNKAN_REPORT__RECIPIENTS", "jinji@example.co.jp, taro.yamada at example")
    assert line.startswith("JUNKAN_REPORT__RECIPIENTS: ") and "entry 2 is not an e-mail address" in line
    assert "jinji" not in line and "yamada" not in line
