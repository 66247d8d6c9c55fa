"""Signed links: tracking (expiring), unsubscribe (permanent), referral codes; key rotation; forgery."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from pydantic import SecretStr

from junkan.config import LinkSettings
from junkan.links import InvalidLink, LinkSigner, TrackingLink, from_settings
from tests.fakes._common import FakeClock

DAY = 24 * 3600


def test_tracking_token_round_trip() -> None:
    signer = LinkSigner("secret-1")
    token = signer.tracking_token("msg_7f3a", "job:42")
    assert signer.read_tracking(token) == TrackingLink(message_id="msg_7f3a", link="job:42")
    assert re.fullmatch(r"[A-Za-z0-9_\-.]+", token), "tokens must be URL-safe"


def test_tracking_token_expires_with_the_configured_age() -> None:
    clock = FakeClock()
    signer = LinkSigner("secret-1", tracking_max_age_s=30 * DAY, clock=clock)
    token = signer.tracking_token("msg_1", "partner")
    clock.advance(30 * DAY - 5)
    assert signer.read_tracking(token).link == "partner"
    clock.advance(10)
    with pytest.raises(InvalidLink) as info:
        signer.read_tracking(token)
    assert info.value.expired is True


def test_unsubscribe_token_never_expires() -> None:
    clock = FakeClock()
    signer = LinkSigner("secret-1", tracking_max_age_s=DAY, clock=clock)
    token = signer.unsubscribe_token("msg_1")
    clock.advance(10 * 365 * DAY)
    assert signer.read_unsubscribe(token) == "msg_1"


@pytest.mark.parametrize(
    "mutate",
    [
        # A character inside the signature (the last one may only carry base64 padding bits).
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
        lambda t: "x" + t,  # payload changed
        lambda t: t.split(".")[0],  # signature stripped
        lambda t: "",
    ],
)
def test_tampered_tracking_tokens_are_rejected(mutate) -> None:  # type: ignore[no-untyped-def]
    signer = LinkSigner("secret-1")
    token = signer.tracking_token("msg_1", "partner")
    with pytest.raises(InvalidLink) as info:
        signer.read_tracking(mutate(token))
    assert info.value.expired is False


def test_token_kinds_are_not_interchangeable() -> None:
    signer = LinkSigner("secret-1")
    unsub = signer.unsubscribe_token("msg_1")
    track = signer.tracking_token("msg_1", "partner")
    with pytest.raises(InvalidLink):
        signer.read_tracking(unsub)
    with pytest.raises(InvalidLink):
        signer.read_unsubscribe(track)


def test_a_token_from_another_secret_is_rejected() -> None:
    token = LinkSigner("attacker-secret").unsubscribe_token("msg_1")
    with pytest.raises(InvalidLink):
        LinkSigner("secret-1").read_unsubscribe(token)


def test_key_rotation_keeps_old_links_working_and_signs_with_the_new_key() -> None:
    old = LinkSigner("old-secret")
    rotated = LinkSigner("new-secret", ["old-secret"])
    old_track = old.tracking_token("msg_1", "partner")
    old_unsub = old.unsubscribe_token("msg_1")
    old_code = old.new_referral_code()
    assert rotated.read_tracking(old_track).message_id == "msg_1"
    assert rotated.read_unsubscribe(old_unsub) == "msg_1"
    assert rotated.verify_referral_code(old_code)
    # New tokens use the new key: a deployment that only knows the old key cannot read them,
    # and once the old key is retired its tokens stop working.
    with pytest.raises(InvalidLink):
        old.read_unsubscribe(rotated.unsubscribe_token("msg_2"))
    retired = LinkSigner("new-secret")
    with pytest.raises(InvalidLink):
        retired.read_unsubscribe(old_unsub)
    assert not retired.verify_referral_code(old_code)


def test_referral_codes_are_opaque_unique_and_verifiable() -> None:
    signer = LinkSigner("secret-1")
    codes = [signer.new_referral_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z2-7]{24}", c) for c in codes)
    assert all(signer.verify_referral_code(c) for c in codes)
    # Random, not a counter: generation order is not the sorted order, and no shared prefix.
    assert codes != sorted(codes)
    assert len({c[:4] for c in codes}) > 1000
    # Partners may shout codes back in capitals or with stray spaces.
    assert signer.verify_referral_code(f"  {codes[0].upper()} ")


def test_forged_or_tampered_referral_codes_are_rejected() -> None:
    signer = LinkSigner("secret-1")
    code = signer.new_referral_code()
    flipped = [code[:i] + ("a" if code[i] != "a" else "b") + code[i + 1 :] for i in range(len(code))]
    assert not any(signer.verify_referral_code(c) for c in flipped)
    assert not signer.verify_referral_code(LinkSigner("other").new_referral_code())
    for junk in ["", "taro@example.com", "1", "0" * 24, code + "a", code[:-1], None, 12345]:
        assert not signer.verify_referral_code(junk)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_input_only_ever_raises_invalid_link(junk: str) -> None:
    signer = LinkSigner("secret-1")
    with pytest.raises(InvalidLink):
        signer.read_tracking(junk)
    with pytest.raises(InvalidLink):
        signer.read_unsubscribe(junk)
    assert signer.verify_referral_code(junk) is False


def test_from_settings_reads_secrets_and_max_age() -> None:
    clock = FakeClock()
    cfg = LinkSettings(secret=SecretStr("new"), fallback_secrets=[SecretStr("old")], tracking_max_age_days=2)
    signer = from_settings(cfg, clock=clock)
    assert signer.tracking_max_age_s == 2 * DAY
    assert signer.read_unsubscribe(LinkSigner("old").unsubscribe_token("m")) == "m"
    token = signer.tracking_token("m", "partner")
    clock.advance(2 * DAY + 1)
    with pytest.raises(InvalidLink):
        signer.read_tracking(token)
    assert LinkSigner.from_settings(cfg).read_unsubscribe(signer.unsubscribe_token("m")) == "m"


def test_empty_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        LinkSigner("")
    signer = LinkSigner("s")
    with pytest.raises(ValueError):
        signer.tracking_token("", "partner")
    with pytest.raises(ValueError):
        signer.unsubscribe_token("")


# Minted by the release before links.py moved to itsdangerous' public API (secret "golden-secret", signed at
# unix time 1,795,000,000): links already in mailboxes must keep working.
GOLDEN_ID = "AbCdEfGhIjKlMnOpQrStUv"
GOLDEN_PARTNER = ("eyJtIjoiQWJDZEVmR2hJaktsTW5PcFFyU3RVdiIsImwiOiJwYXJ0bmVyIn0"
                  ".av2GwA.tTVQ56l5pX_6frfgWk6W_Pa0cxg")
GOLDEN_JOB = ("eyJtIjoiQWJDZEVmR2hJaktsTW5PcFFyU3RVdiIsImwiOiJqb2I6NDIifQ"
              ".av2GwA.s7FStCVnnADOJbZ3Eo7Wgc_ma3I")
GOLDEN_UNSUB = "IkFiQ2RFZkdoSWpLbE1uT3BRclN0VXYi.FPWjf7R0mcDJ6QT4AhRKMVSkWxs"
GOLDEN_REFERRAL_BODY, GOLDEN_REFERRAL_CHECK = "abcdefghijklmnop", "byeieeek"


def test_tokens_mailed_by_earlier_releases_still_verify_and_new_ones_are_identical() -> None:
    signer = LinkSigner("new-secret", ["golden-secret"], clock=lambda: 1_795_000_000 + DAY)
    assert signer.read_tracking(GOLDEN_PARTNER) == TrackingLink(GOLDEN_ID, "partner")
    assert signer.read_tracking(GOLDEN_JOB) == TrackingLink(GOLDEN_ID, "job:42")
    assert signer.read_unsubscribe(GOLDEN_UNSUB) == GOLDEN_ID
    assert signer.verify_referral_code(GOLDEN_REFERRAL_BODY + GOLDEN_REFERRAL_CHECK)
    same = LinkSigner("golden-secret", clock=lambda: 1_795_000_000)
    assert same.tracking_token(GOLDEN_ID, "partner") == GOLDEN_PARTNER
    assert same.tracking_token(GOLDEN_ID, "job:42") == GOLDEN_JOB
    assert same.unsubscribe_token(GOLDEN_ID) == GOLDEN_UNSUB


def _signed(payload: object, *, timed: bool) -> str:
    """A token in our format and key carrying any payload (LinkSigner itself refuses to mint these)."""
    if timed:
        return URLSafeTimedSerializer("secret-1", salt="junkan.link.track.v1").dumps(payload)
    return URLSafeSerializer("secret-1", salt="junkan.link.unsubscribe.v1").dumps(payload)


@pytest.mark.parametrize("payload", [
    {"m": "msg\x00", "l": "partner"}, {"m": "msg_1", "l": "job:\x00"}, {"m": "m" * 65, "l": "partner"},
    {"m": "msg_1", "l": "job:²"}, {"m": "msg_1", "l": "https://evil.example/"}, {"m": 1, "l": "partner"},
    {"m": "msg_1", "l": "partner", "extra": 1}, {"m": "", "l": "partner"}, ["msg_1", "partner"], None,
    {"m": "ｍｓｇ", "l": "partner"},
])
def test_signed_tracking_payloads_of_shapes_we_never_mint_are_invalid(payload: object) -> None:
    with pytest.raises(InvalidLink):
        LinkSigner("secret-1").read_tracking(_signed(payload, timed=True))


@pytest.mark.parametrize("payload", ["msg\x00", "", "m" * 65, "ｍｓｇ", 12, ["msg_1"], "a b", "msg_1\n"])
def test_signed_unsubscribe_payloads_of_shapes_we_never_mint_are_invalid(payload: object) -> None:
    with pytest.raises(InvalidLink):
        LinkSigner("secret-1").read_unsubscribe(_signed(payload, timed=False))


def test_a_signed_payload_that_is_not_readable_json_is_invalid_not_an_error() -> None:
    class Raw:
        dumps = staticmethod(str)
        loads = staticmethod(str)

    for text in ("9" * 5000, "[" * 5000, "not json"):
        with pytest.raises(InvalidLink):
            LinkSigner("secret-1").read_unsubscribe(
                URLSafeSerializer("secret-1", salt="junkan.link.unsubscribe.v1", serializer=Raw).dumps(text))


def test_only_opaque_ids_and_short_link_names_are_minted() -> None:
    signer = LinkSigner("s")
    for message_id, link in (("a@b.example", "partner"), ("msg_1", "https://evil.example/"),
                             ("msg\x00", "partner"), ("msg_1", "job:²")):
        with pytest.raises(ValueError):
            signer.tracking_token(message_id, link)
    with pytest.raises(ValueError):
        signer.unsubscribe_token("taro@example.com")


def test_preference_tokens_name_the_mail_expire_and_are_their_own_kind() -> None:
    clock = FakeClock()
    signer = LinkSigner("secret-1", clock=clock)
    token = signer.preferences_token("msg_1")
    clock.advance(180 * DAY - 5)
    assert signer.read_preferences(token, max_age_s=180 * DAY) == "msg_1"
    clock.advance(10)
    with pytest.raises(InvalidLink) as info:
        signer.read_preferences(token, max_age_s=180 * DAY)
    assert info.value.expired is True
    # Not a renewal token, nor readable as one; signed with another secret: refused.
    for other in (signer.renewal_token("msg_1"), signer.unsubscribe_token("msg_1"),
                  LinkSigner("attacker", clock=clock).preferences_token("msg_1")):
        with pytest.raises(InvalidLink):
            signer.read_preferences(other, max_age_s=180 * DAY)
    with pytest.raises(InvalidLink):
        signer.read_renewal(signer.preferences_token("msg_1"), max_age_s=DAY)
    with pytest.raises(ValueError, match="opaque"):
        signer.preferences_token("taro@example.com")
