"""The live-send guard: every shipped sample of the sender identity, the link secret and the public URL
is named, one line per setting; the file backend is exempt."""

from __future__ import annotations

import pytest

from junkan.config import Settings
from junkan.mail.identity_guard import (
    SampleIdentityError,
    is_loopback_url,
    refuse_sample_identity,
    sample_identity_values,
)
from tests.mail_support import live_identity


def _settings(**values: object) -> Settings:
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def test_the_shipped_defaults_are_all_named_one_line_per_setting() -> None:
    lines = sample_identity_values(_settings())
    assert lines == [
        "JUNKAN_SENDER__COMPANY_NAME is still the shipped sample; set it before sending live mail",
        "JUNKAN_SENDER__POSTAL_ADDRESS is still the shipped sample; set it before sending live mail",
        "JUNKAN_SENDER__CONTACT_EMAIL is still the shipped sample; set it before sending live mail",
        "JUNKAN_MAIL__FROM_EMAIL is still the shipped sample; set it before sending live mail",
        "JUNKAN_LINKS__SECRET is still the shipped sample; set it before sending live mail",
        "JUNKAN_LINKS__PUBLIC_BASE_URL is still the shipped sample; set it before sending live mail",
        "JUNKAN_RETENTION__HASH_KEY is still the shipped sample; set it before sending live mail",
    ]


def test_a_real_identity_passes() -> None:
    assert sample_identity_values(_settings(**live_identity())) == []
    refuse_sample_identity(_settings(**live_identity()), "sendgrid")


def test_one_sample_left_is_the_only_line() -> None:
    values = live_identity()
    values["sender"] = {**values["sender"], "postal_address": _settings().sender.postal_address}
    assert sample_identity_values(_settings(**values)) == [
        "JUNKAN_SENDER__POSTAL_ADDRESS is still the shipped sample; set it before sending live mail"
    ]


def test_the_sample_secret_kept_as_a_fallback_is_named() -> None:
    values = live_identity()
    values["links"] = {**values["links"], "fallback_secrets": ["old-real-secret", "change-me-in-production"]}
    assert sample_identity_values(_settings(**values)) == [
        "JUNKAN_LINKS__FALLBACK_SECRETS still holds the shipped sample secret; remove it before sending "
        "live mail"
    ]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000", "http://127.8.9.10", "https://localhost/junkan", "http://LOCALHOST.:80",
    "http://app.localhost", "http://[::1]:8000", "http://0.0.0.0:8000", "/just/a/path",
])
def test_loopback_base_urls_are_refused(url: str) -> None:
    assert is_loopback_url(url)
    values = live_identity()
    values["links"] = {**values["links"], "public_base_url": url}
    (line,) = sample_identity_values(_settings(**values))
    assert line.startswith("JUNKAN_LINKS__PUBLIC_BASE_URL ")


@pytest.mark.parametrize("url", ["https://junkan.example", "https://128.0.0.1", "https://[2001:db8::1]",
                                 "https://localhost.example.co.jp"])
def test_reachable_base_urls_pass(url: str) -> None:
    assert not is_loopback_url(url)


@pytest.mark.parametrize("backend", ["sendgrid", "smtp"])
def test_live_backends_are_refused_with_every_setting_named(backend: str) -> None:
    with pytest.raises(SampleIdentityError) as caught:
        refuse_sample_identity(_settings(), backend)
    message = str(caught.value)
    assert message.splitlines()[0] == f"live mail through {backend} is refused, nothing was sent:"
    assert "JUNKAN_LINKS__SECRET is still the shipped sample" in message
    assert len(caught.value.problems) == 7


def test_the_file_backend_is_exempt() -> None:
    assert len(sample_identity_values(_settings())) == 7, "every shipped sample is still in use"
    refuse_sample_identity(_settings(), "file")  # the demo's backend: no SampleIdentityError
