"""No live mail with the shipped sample identity (docs/operations.md "Before the first live send").

The defaults in junkan/config.py exist so that `make demo` runs out of the box. Mailed with them, a real
candidate would get a notice from 株式会社サンプル at a made-up address, with unsubscribe links that never
expire, signed with a secret anyone holding the source knows, pointing at a loopback address no candidate
can reach. So a send through a backend that delivers (`sendgrid`, `smtp`) is refused while any of them is
still in use; the `file` backend and dry runs deliver nothing and are exempt.

The same holds for the two keys: the link secret (and every fallback) signs links and referral codes, the
retention hash key keys the suppression and erasure hashes. The demo's values, or keys shorter than
32 bytes (guessable offline, and below HMAC-SHA256's own strength), are refused for a live send.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from junkan.config import (
    DEFAULT_HASH_KEY,
    DEFAULT_LINK_SECRET,
    ConfigError,
    LinkSettings,
    MailSettings,
    SenderSettings,
    Settings,
)

#: Backends that hand mail to someone who delivers it.
LIVE_BACKENDS = frozenset({"sendgrid", "smtp"})

_SENDER = SenderSettings()
_SAMPLE = "is still the shipped sample; set it before sending live mail"
#: Fewest bytes of a live secret: HMAC-SHA256's block of strength, as RFC 2104 recommends.
MIN_SECRET_BYTES = 32
_SHORT = f"use a random secret of at least {MIN_SECRET_BYTES} bytes before sending live mail"


class SampleIdentityError(ConfigError):
    """A live send was refused: `problems` names each setting still at its shipped sample, one a line."""

    def __init__(self, problems: list[str], backend: str) -> None:
        super().__init__(problems)
        self.backend = backend
        self.args = (f"live mail through {backend} is refused, nothing was sent:\n" + "\n".join(problems),)


def is_loopback_url(url: str) -> bool:
    """True for a URL whose host is localhost or a loopback address (127.0.0.0/8, ::1) or none at all."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return False
    if not host:
        return True
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _samples(settings: Settings) -> Iterator[str]:
    sender = settings.sender
    for field in ("company_name", "postal_address", "contact_email"):
        if getattr(sender, field) == getattr(_SENDER, field):
            yield f"JUNKAN_SENDER__{field.upper()} {_SAMPLE}"
    if settings.mail.from_email == MailSettings().from_email:
        yield f"JUNKAN_MAIL__FROM_EMAIL {_SAMPLE}"
    links = settings.links
    if links.uses_default_secret:
        yield f"JUNKAN_LINKS__SECRET {_SAMPLE}"
    elif (size := _bytes(links.secret.get_secret_value())) < MIN_SECRET_BYTES:
        yield f"JUNKAN_LINKS__SECRET is {_long(size)}; {_SHORT}"
    fallbacks = [s.get_secret_value() for s in links.fallback_secrets]
    if DEFAULT_LINK_SECRET in fallbacks:
        yield ("JUNKAN_LINKS__FALLBACK_SECRETS still holds the shipped sample secret; remove it before "
               "sending live mail")
    elif short := [_bytes(s) for s in fallbacks if _bytes(s) < MIN_SECRET_BYTES]:
        yield (f"JUNKAN_LINKS__FALLBACK_SECRETS holds a secret of {min(short)} bytes; use random secrets "
               f"of at least {MIN_SECRET_BYTES} bytes before sending live mail")
    if links.public_base_url == LinkSettings().public_base_url:
        yield f"JUNKAN_LINKS__PUBLIC_BASE_URL {_SAMPLE}"
    elif is_loopback_url(links.public_base_url):
        yield ("JUNKAN_LINKS__PUBLIC_BASE_URL is a loopback address candidates cannot reach; set the public "
               "URL of `junkan web` before sending live mail")


def _bytes(secret: str) -> int:
    return len(secret.encode("utf-8"))


def _long(size: int) -> str:
    return f"{size} byte{'s' if size != 1 else ''} long"


def _hash_key(settings: Settings) -> Iterator[str]:
    key = settings.retention.hash_key.get_secret_value()
    if key == DEFAULT_HASH_KEY:
        yield f"JUNKAN_RETENTION__HASH_KEY {_SAMPLE}"
    elif (size := _bytes(key)) < MIN_SECRET_BYTES:
        yield f"JUNKAN_RETENTION__HASH_KEY is {_long(size)}; {_SHORT}"


def sample_identity_values(settings: Settings) -> list[str]:
    """One line per sample value still in use (empty when the identity is the operator's own)."""
    return [*_samples(settings), *_hash_key(settings)]


def refuse_sample_identity(settings: Settings, backend: str) -> None:
    """Raise SampleIdentityError before a live send through `backend` while any sample value is in use."""
    if backend not in LIVE_BACKENDS:
        return
    problems = sample_identity_values(settings)
    if problems:
        raise SampleIdentityError(problems, backend)
