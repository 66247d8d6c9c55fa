"""The one normalisation of personal identifiers (junkan.identity), used by ingest, webhook and sync."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from junkan import identity
from junkan.identity import is_valid_email, normalize_email


def _reference_text(value: str | None) -> str | None:
    """The definition the fast path must meet: NFKC, whitespace runs as one space, trimmed."""
    if value is None:
        return None
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip() or None


_text_samples = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from([
    " Ａ＠ＥＸＡＭＰＬＥ．ＣＯＭ ", "ﾔﾏﾀﾞ\u3000ﾀﾛｳ", "a\u2003b\tc\n", "\x1c\x1d x \x1e", "ｶﾞｷﾞ", "ℌ㍻①"])


@given(_text_samples)
@settings(max_examples=400, deadline=None)
def test_the_ascii_shortcut_gives_the_full_normalisation(value: str) -> None:
    assert identity.normalize_text(value) == _reference_text(value)
    assert identity.normalize_name(value) == _reference_text(value)
    expected = _reference_text(value)
    assert normalize_email(value) == (expected.casefold() if expected else None)


@st.composite
def _jp_numbers(draw: st.DrawFn) -> str:
    digits = "0" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=8, max_size=11)))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=3)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    text = draw(st.sampled_from(["-", " ", "", "－"])).join(parts)
    if draw(st.booleans()):
        text = f"({parts[0]}){''.join(parts[1:])}"
    if draw(st.booleans()):
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return text


@given(_jp_numbers() | st.text(alphabet="0123456789+-() ８１", max_size=16))
@settings(max_examples=600, deadline=None)
def test_the_japanese_phone_shortcut_matches_phonenumbers(value: str) -> None:
    assert identity.normalize_phone(value, "JP") == (identity.parse_phone(value, "JP") if value else None)


def test_surrounding_whitespace_width_and_case_are_normalised() -> None:
    assert normalize_email("  Ｔａｒｏ＠Ｅｘａｍｐｌｅ．ＪＰ\u3000") == "taro@example.jp"
    assert normalize_email("\tTARO@Example.jp \n") == "taro@example.jp"


@pytest.mark.parametrize("address", [
    "ta ro@example.com",        # would otherwise be someone else's taro@example.com
    "ta\u3000ro@example.com",   # an ideographic space is a space after NFKC
    "ta\tro@example.com",
    "taro @example.com",
    "taro@exa mple.com",
])
def test_whitespace_inside_an_address_is_kept_so_the_address_is_invalid(address: str) -> None:
    key = normalize_email(address)
    assert key != "taro@example.com"
    assert not is_valid_email(key)


@pytest.mark.parametrize("address", [
    "trail.@example.com", ".lead@example.com", "..dots@example.com", "two..dots@example.com", "@example.com",
])
def test_the_local_part_is_a_dot_atom(address: str) -> None:
    assert not is_valid_email(normalize_email(address))


@pytest.mark.parametrize("address", [
    "taro@example.com", "taro.yamada@example.co.jp", "t.a.r.o+tag@example.com", "o'brien@example.ie",
    "x@a-b.example",
])
def test_ordinary_addresses_stay_valid(address: str) -> None:
    assert is_valid_email(normalize_email(address))
