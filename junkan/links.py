"""Signed tokens for tracked links, unsubscribe links, consent renewal links, preference-page links and
partner referral codes.

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
from typing import Any

from itsdangerous import (
    BadData,
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
_RENEWAL_SALT = "junkan.link.renewal.v1"
_PREFERENCES_SALT = "junkan.link.preferences.v1"

#: 80 random bits: unguessable, and collisions are negligible even across millions of notices.
_REFERRAL_RANDOM_BYTES = 10
#: 40-bit check: enough to reject typos and forgeries before a database lookup.
_REFERRAL_CHECK_BYTES = 5
#: Lowercase base32 without padding: 16 characters of random bits, then 8 of check.
_REFERRAL_RE = re.compile(r"[a-z2-7]{24}")

#: What we mint: `new_public_id()` is URL-safe base64 (22 characters, "dry-" in previews); tests use hex.
_MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Link names: `partner`, `unsubscribe`, `job:<id>`; which ones lead anywhere is decided by the clicks module.
_LINK_RE = re.compile(r"[a-z][a-z0-9_]{0,31}(?::[A-Za-z0-9_-]{1,64})?")

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


class _ClockedSigner(TimestampSigner):
    """TimestampSigner reading the injected clock through its documented `get_timestamp` hook.

    The token format is itsdangerous' own; only "now" changes, for both the stamp and the age check, so
    expiry is testable without waiting. The clock is bound per LinkSigner through `signer_kwargs`.
    """

    def __init__(self, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


def _derived(keys: Sequence[str], salt: str) -> list[bytes]:
    """itsdangerous' default derived key (django-concat, SHA-1) of each secret for one salt."""
    return [Signer(key, salt=salt).derive_key() for key in keys]


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
        # itsdangerous derives the signing key from secret and salt on every dumps/loads (an HMAC each time,
        # a quarter of a notice's render time). Deriving once with its own derive_key(), then signing with
        # key_derivation="none", gives byte-identical tokens at a fraction of the cost.
        self._track = URLSafeTimedSerializer(_derived(self._keys, _TRACK_SALT), salt=_TRACK_SALT,
                                             signer=_ClockedSigner,
                                             signer_kwargs={"clock": clock, "key_derivation": "none"})
        self._unsub = URLSafeSerializer(_derived(self._keys, _UNSUB_SALT), salt=_UNSUB_SALT,
                                        signer_kwargs={"key_derivation": "none"})
        self._renewal = URLSafeTimedSerializer(_derived(self._keys, _RENEWAL_SALT), salt=_RENEWAL_SALT,
                                               signer=_ClockedSigner,
                                               signer_kwargs={"clock": clock, "key_derivation": "none"})
        self._preferences = URLSafeTimedSerializer(
            _derived(self._keys, _PREFERENCES_SALT), salt=_PREFERENCES_SALT, signer=_ClockedSigner,
            signer_kwargs={"clock": clock, "key_derivation": "none"})
        # The referral check is an HMAC under itsdangerous' derived key for each secret, computed once.
        self._referral_keys = [Signer(key, salt=_REFERRAL_SALT, digest_method=hashlib.sha256).derive_key()
                               for key in self._keys]

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
        if not _MESSAGE_ID_RE.fullmatch(message_id) or not _LINK_RE.fullmatch(link):
            raise ValueError("tracking token needs an opaque message id and a short ASCII link name")
        return self._track.dumps({"m": message_id, "l": link})

    def read_tracking(self, token: str) -> TrackingLink:
        data = self._load(self._track, token, "tracking", max_age=self.tracking_max_age_s)
        # Signed by us, but maybe by an older release or with a leaked key: only the shapes we mint pass,
        # so nothing odd (NUL, lone surrogates, huge numbers) ever reaches a query.
        if not (isinstance(data, dict) and set(data) == {"m", "l"}
                and isinstance(data["m"], str) and _MESSAGE_ID_RE.fullmatch(data["m"])
                and isinstance(data["l"], str) and _LINK_RE.fullmatch(data["l"])):
            raise InvalidLink("tracking link payload malformed")
        return TrackingLink(message_id=data["m"], link=data["l"])

    # -- unsubscribe (never expires: an opt-out must keep working for as long as the mail exists) --------
    def unsubscribe_token(self, message_id: str) -> str:
        if not message_id:
            raise ValueError("unsubscribe token needs a message id")
        if not _MESSAGE_ID_RE.fullmatch(message_id):
            raise ValueError("unsubscribe token needs an opaque message id")
        return self._unsub.dumps(message_id)

    def read_unsubscribe(self, token: str) -> str:
        data = self._load(self._unsub, token, "unsubscribe")
        if not isinstance(data, str) or not _MESSAGE_ID_RE.fullmatch(data):
            raise InvalidLink("unsubscribe link payload malformed")
        return data

    # -- consent renewal (expires: a renewal is a fresh consent, given while the mail is recent) -----------
    def renewal_token(self, message_id: str) -> str:
        return self._message_token(self._renewal, "r", "renewal", message_id)

    def read_renewal(self, token: str, *, max_age_s: int) -> str:
        """The renewal mail's message id; InvalidLink when forged, malformed or older than `max_age_s`."""
        return self._read_message_token(self._renewal, "r", "renewal", token, max_age_s)

    # -- the preference page 「今後のご案内の設定」 (expires: `consent.preference_link_max_age_days`) --------
    def preferences_token(self, message_id: str) -> str:
        """The link every mail carries to its person's own page; names the mail, never the person."""
        return self._message_token(self._preferences, "p", "preferences", message_id)

    def read_preferences(self, token: str, *, max_age_s: int) -> str:
        """The mail's message id; InvalidLink when forged, malformed or older than `max_age_s`."""
        return self._read_message_token(self._preferences, "p", "preferences", token, max_age_s)

    # -- expiring links that name one mail (renewal, preferences): {key: message id} -----------------------
    @staticmethod
    def _message_token(serializer: URLSafeTimedSerializer, key: str, kind: str, message_id: str) -> str:
        if not message_id or not _MESSAGE_ID_RE.fullmatch(message_id):
            raise ValueError(f"{kind} token needs an opaque message id")
        return serializer.dumps({key: message_id})

    @classmethod
    def _read_message_token(cls, serializer: URLSafeTimedSerializer, key: str, kind: str, token: str,
                            max_age_s: int) -> str:
        data = cls._load(serializer, token, kind, max_age=max_age_s)
        if not (isinstance(data, dict) and set(data) == {key} and isinstance(data[key], str)
                and _MESSAGE_ID_RE.fullmatch(data[key])):
            raise InvalidLink(f"{kind} link payload malformed")
        return str(data[key])

    @staticmethod
    def _load(serializer: URLSafeSerializer | URLSafeTimedSerializer, token: str, kind: str,
              **kwargs: Any) -> Any:
        # Our tokens are URL-safe ASCII; anything else is refused before itsdangerous encodes it (a lone
        # surrogate would not even encode).
        if not isinstance(token, str) or not token.isascii():
            raise InvalidLink(f"{kind} link malformed")
        try:
            return serializer.loads(token, **kwargs)
        except SignatureExpired as exc:
            raise InvalidLink(f"{kind} link expired", expired=True) from exc
        except BadSignature as exc:
            raise InvalidLink(f"{kind} link signature invalid") from exc
        except BadData as exc:  # BadPayload: signed, but not JSON we can read (huge number, deep nesting)
            raise InvalidLink(f"{kind} link payload unreadable") from exc

    # -- referral codes ---------------------------------------------------------------------------------
    def new_referral_code(self) -> str:
        """A fresh opaque code: random bits plus a keyed check, lowercase base32 (24 characters).

        It encodes nothing about the candidate; the mapping code -> message lives only in our database.
        """
        body = _b32(secrets.token_bytes(_REFERRAL_RANDOM_BYTES))
        return body + self._referral_check(body, self._referral_keys[-1])

    def verify_referral_code(self, code: str) -> bool:
        if not isinstance(code, str):
            return False
        code = code.strip().lower()
        if not _REFERRAL_RE.fullmatch(code):
            return False
        body, check = code[:16], code[16:]
        return any(hmac.compare_digest(check, self._referral_check(body, key)) for key in self._referral_keys)

    @staticmethod
    def _referral_check(body: str, derived_key: bytes) -> str:
        mac = hmac.digest(derived_key, body.encode("ascii"), "sha256")
        return _b32(mac[:_REFERRAL_CHECK_BYTES])


def from_settings(settings: LinkSettings, *, clock: Callable[[], float] = time.time) -> LinkSigner:
    return LinkSigner.from_settings(settings, clock=clock)
