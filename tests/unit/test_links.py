"""Signed links: tracking (expiring), unsubscribe (permanent), referral codes; key rotation; forgery."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
