"""Pure pieces of the engagement module: event minimisation, de-duplication keys, the `web` command's help."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from junkan.cli.web import web
from junkan.engagement.clicks import with_query
from junkan.engagement.events import email_key_of, parse_event
from junkan.engagement.privacy import scrub_event
from junkan.identity import normalize_email
from junkan.web.signature import normalize_public_key
from tests.privacy_support import KEY, hashed


def test_scrub_drops_address_ip_and_user_agent_at_any_depth() -> None:
    raw = {"email": "a@example.jp", "ip": "198.51.100.1", "useragent": "UA",
           "note": "550 <a@example.jp> no",
           "nested": {"email": "b@example.jp", "list": ["c@example.jp", 1]}, "n": 3}
    assert scrub_event(raw) == {"note": "550 <[address]> no", "nested": {"list": ["[address]", 1]}, "n": 3}


def test_a_bounce_keeps_its_smtp_codes_and_class_not_the_servers_free_text() -> None:
    raw = {"event": "bounce", "type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address",
           "reason": "550 5.1.1 <hanako@example.jp>: 佐藤花子様 (090-1111-2222) is unknown here"}
    assert scrub_event(raw) == {"event": "bounce", "type": "bounce", "status": "5.1.1",
                                "bounce_classification": "Invalid Address", "reason_code": "550 5.1.1"}
    delivered = scrub_event({"event": "delivered", "response": "250-2.0.0 OK queued for Hanako Sato"})
    assert delivered == {"event": "delivered", "response_code": "250 2.0.0"}
    # Text without codes (a dropped event's "Bounced Address", a name) leaves nothing behind.
    assert scrub_event({"event": "dropped", "reason": "Hanako Sato 090-1111-2222"}) == {"event": "dropped"}


def test_a_click_keeps_the_url_without_query_string_or_fragment() -> None:
    raw = {"event": "click", "url": "https://u:p@jobs.example.jp:8443/apply/12?name=佐藤花子&tel=09011112222#me",
           "url_offset": {"index": 1, "type": "html"}}
    assert scrub_event(raw) == {"event": "click", "url": "https://jobs.example.jp:8443/apply/12",
                                "url_offset": {"index": 1, "type": "html"}}


def test_a_resent_event_under_a_new_id_has_the_same_dedup_key() -> None:
    base = {"event": "delivered", "email": "A@Example.jp", "timestamp": 1_795_000_000, "sg_event_id": "one",
            "sg_message_id": "xid.filter.1", "junkan_message_id": "m1"}
    first = parse_event(base, KEY)
    resent = parse_event({**base, "sg_event_id": "two", "email": "a@example.jp"}, KEY)
    assert first.dedup_key == resent.dedup_key and first.sg_event_id != resent.sg_event_id
    assert parse_event({**base, "timestamp": 1_795_000_001}, KEY).dedup_key != first.dedup_key
    # Two different links clicked in the same second are two clicks.
    click = {**base, "event": "click", "url": "https://x.example/a"}
    other_link = {**click, "url": "https://x.example/b"}
    assert parse_event(click, KEY).dedup_key != parse_event(other_link, KEY).dedup_key
    assert first.provider_message_id == "xid" and first.email_key == "a@example.jp"


def test_the_recipient_is_known_only_by_its_keyed_hash() -> None:
    # An event with neither our id nor SendGrid's is told apart by its recipient: hashed with the key, so
    # neither the stored hash nor the dedup key can be confirmed by hashing guessed addresses.
    bare = {"event": "bounce", "email": "Taro@Example.jp", "timestamp": 1_795_000_000}
    parsed = parse_event(bare, KEY)
    assert parsed.recipient_hash == hashed("taro@example.jp")
    assert parsed.recipient_hash != hashlib.sha256(b"taro@example.jp").hexdigest()
    other_key = parse_event(bare, b"another key of at least 32 bytes..")
    assert other_key.recipient_hash != parsed.recipient_hash and other_key.dedup_key != parsed.dedup_key
    assert parse_event({k: v for k, v in bare.items() if k != "email"}, KEY).recipient_hash is None


@pytest.mark.parametrize("raw", [[], {"event": "delivered"}, {"event": "x" * 40, "timestamp": 1_795_000_000},
                                 {"event": "open", "timestamp": True}, {"event": "open", "timestamp": 1e20}])
def test_malformed_events_are_rejected(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_event(raw, KEY)


def test_with_query_keeps_existing_parameters_and_refuses_non_http_urls() -> None:
    assert with_query("https://p.example/r?utm=1&ref=old", ref="new") == "https://p.example/r?utm=1&ref=new"
    assert with_query("javascript:alert(1)", ref="x") is None
    assert with_query("/relative", ref="x") is None


def test_public_key_accepted_with_or_without_pem_armour() -> None:
    body = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "A" * 10
    pem = f"-----BEGIN PUBLIC KEY-----\n{body[:20]}\n{body[20:]}\n-----END PUBLIC KEY-----\n"
    assert normalize_public_key(pem) == body == normalize_public_key(f"  {body}\n")


def test_web_help_documents_running_behind_a_reverse_proxy() -> None:
    app = typer.Typer()
    app.command()(web)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["web", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    expected = ("reverse proxy", "--root-path", "--forwarded-allow-ips", "--proxy-headers", "/hooks/sendgrid")
    for text in expected:
        assert text in result.output


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=127)),
    st.from_regex(r"\s*[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9.-]{1,20}\s*", fullmatch=True),
))
def test_webhook_email_key_is_the_candidate_key(raw: str) -> None:
    # The webhook's ASCII shortcut must give exactly the key candidates are stored under.
    assert email_key_of(raw) == normalize_email(raw)


def test_webhook_email_key_folds_full_width_and_case_like_the_candidate_key() -> None:
    full_width = "\u3000ＴＡＲＯ＠Example.JP "
    assert email_key_of(full_width) == "taro@example.jp" == normalize_email(full_width)
    assert email_key_of(" \t\x1f ") is None


def test_scrub_treats_container_subclasses_like_containers() -> None:
    class Tags(list[str]):
        pass

    raw = {"email": "a@example.jp",
           "extra": OrderedDict(note="to <b@example.jp>", who=Tags(["c@example.jp"]))}
    assert scrub_event(raw) == {"extra": {"note": "to <[address]>", "who": ["[address]"]}}


def test_parsed_event_carries_the_minimised_payload_as_json() -> None:
    raw = {"event": "open", "email": "A@Example.jp", "timestamp": 1_795_000_000, "sg_event_id": "e1",
           "ip": "198.51.100.1", "useragent": "UA", "junkan_message_id": "m1", "note": "ünïcode"}
    parsed = parse_event(raw, KEY)
    assert json.loads(parsed.payload_json) == parsed.payload == {
        "event": "open", "timestamp": 1_795_000_000, "sg_event_id": "e1", "junkan_message_id": "m1",
        "note": "ünïcode"}
    assert "198.51" not in parsed.payload_json and "Example" not in parsed.payload_json
