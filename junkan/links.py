"""Signed tokens for tracked links, unsubscribe links and partner referral codes.

Everything a candidate can click carries only opaque ids (message ids, random referral codes), signed so
that nobody can forge a click, an opt-out for someone else, or a registration credit. Keys rotate: the
current secret signs, the fallback secrets still verify, so links mailed before a rotation keep working.
Each token kind has its own salt, so a token of one kind is never accepted as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from junkan.config import LinkSettings

_TRACK_SALT = "junkan.link.track.v1"
_UNSUB_SALT = "junkan.link.unsubscribe.v1"
_REFERRAL_SALT = "junkan.link.referral.v1"

#: 80 random bits: unguessable, and collisions are negligible even across millions of notices.
_REFERRAL_RANDOM_BYTES = 10
#: 40-bit check: enough to reject typos and forgeries before a database lookup.
_REFERRAL_CHECK_BYTES = 5
#: Lowercase base32 without padding: 16 characters of random bits, then 8 of check.
_REFERRAL_RE = re.compile(r"[a-z2-7]{24}")

DEFAULT_TRACKING_MAX_AGE_S = 180 * 24 * 3600


class InvalidLink(ValueError):
    """A token that is malformed, forged, signed for another purpose, or (tracking only) expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class TrackingLink:
    message_id: str
    #: Short link name such as "partner", "unsubscribe" or "job:<id>".
    link: str


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


class _DerivedKeyCache(Signer):
    """itsdangerous re-derives the HMAC key on every call; it depends only on the key and salt, so keep it."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is None:
            secret_key = self.secret_keys[-1]
        cache: dict[str | bytes, bytes] = self.__dict__.setdefault("_derived", {})
        derived = cache.get(secret_key)
        if derived is None:
            derived = cache[secret_key] = super().derive_key(secret_key)
        return derived


class _SignerCache:
    """Serializer mixin: one signer per salt instead of a new one (and a new key derivation) per token."""

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        cache: dict[str | bytes | None, Signer] = self.__dict__.setdefault("_signers", {})
        signer = cache.get(salt)
        if signer is None:
            signer = cache[salt] = super().make_signer(salt)  # type: ignore[misc]
        return signer


class _Serializer(_SignerCache, URLSafeSerializer):
    pass


class _TimedSerializer(_SignerCache, URLSafeTimedSerializer):
    pass


class _KeyedSigner(_DerivedKeyCache, Signer):
    pass


def _timed_signer(clock: Callable[[], float]) -> type[TimestampSigner]:
    # itsdangerous reads time.time() for both the stamp and the age check; a clock makes expiry testable.
    class _ClockedSigner(_DerivedKeyCache, TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return _ClockedSigner


class LinkSigner:
    def __init__(
        self,
        secret: str,
        fallback_secrets: Sequence[str] = (),
        *,
        tracking_max_age_s: int = DEFAULT_TRACKING_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the link secret must not be empty")
        # itsdangerous signs with the last key and verifies with all of them.
        self._keys: list[str] = [*[s for s in fallback_secrets if s], secret]
        self.tracking_max_age_s = tracking_max_age_s
        self._track = _TimedSerializer(self._keys, salt=_TRACK_SALT, signer=_timed_signer(clock))
        self._unsub = _Serializer(self._keys, salt=_UNSUB_SALT, signer=_KeyedSigner)
        self._referral = _KeyedSigner(self._keys, salt=_REFERRAL_SALT, digest_method=hashlib.sha256)

    @classmethod
    def from_settings(cls, settings: LinkSettings, *, clock: Callable[[], float] = time.time) -> LinkSigner:
        return cls(
            settings.secret.get_secret_value(),
            [s.get_secret_value() for s in settings.fallback_secrets],
            tracking_max_age_s=settings.tracking_max_age_days * 24 * 3600,
            clock=clock,
        )

    # -- tracked links (expire) -------------------------------------------------------------------------
    def tracking_token(self, message_id: str, link: str) -> str:
        if not message_id or not link:
            raise ValueError("tracking token needs a message id and a link name")
        return self._track.dumps({"m": message_id, "l": link})

    def read_tracking(self, token: str) -> TrackingLink:
        try:
            data = self._track.loads(token, max_age=self.tracking_max_age_s)
        except SignatureExpired as exc:
            raise InvalidLink("tracking link expired", expired=True) from exc
        except BadSignature as exc:
            raise InvalidLink("tracking link signature invalid") from exc
        if not (isinstance(data, dict) and isinstance(data.get("m"), str) and isinstance(data.get("l"), str)):
            raise InvalidLink("tracking link payload malformed")
        return TrackingLink(message_id=data["m"], link=data["l"])

    # -- unsubscribe (never expires: an opt-out must keep working for as long as the mail exists) --------
    def unsubscribe_token(self, message_id: str) -> str:
        if not message_id:
            raise ValueError("unsubscribe token needs a message id")
        return self._unsub.dumps(message_id)

    def read_unsubscribe(self, token: str) -> str:
        try:
            data = self._unsub.loads(token)
        except BadSignature as exc:
            raise InvalidLink("unsubscribe link signature invalid") from exc
        if not isinstance(data, str) or not data:
            raise InvalidLink("unsubscribe link payload malformed")
        return data

    # -- referral codes ---------------------------------------------------------------------------------
    def new_referral_code(self) -> str:
        """A fresh opaque code: random bits plus a keyed check, lowercase base32 (24 characters).

        It encodes nothing about the candidate; the mapping code -> message lives only in our database.
        """
        body = _b32(secrets.token_bytes(_REFERRAL_RANDOM_BYTES))
        return body + self._referral_check(body, self._keys[-1])

    def verify_referral_code(self, code: str) -> bool:
        if not isinstance(code, str):
            return False
        code = code.strip().lower()
        if not _REFERRAL_RE.fullmatch(code):
            return False
        body, check = code[:16], code[16:]
        return any(hmac.compare_digest(check, self._referral_check(body, key)) for key in self._keys)

    def _referral_check(self, body: str, key: str) -> str:
        derived = self._referral.derive_key(key)
        mac = hmac.digest(derived, body.encode("ascii"), "sha256")
        return _b32(mac[:_REFERRAL_CHECK_BYTES])


def from_settings(settings: LinkSettings, *, clock: Callable[[], float] = time.time) -> LinkSigner:
    return LinkSigner.from_settings(settings, clock=clock)
