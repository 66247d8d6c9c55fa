"""Access and erasure requests reach every record of the person (issue 19 §2), on both databases:
provider events without a message, phones as typed, records under a mistyped address, every key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from junkan.ats.base import BadRecord
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, DecisionLog, Quarantine
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.events import ingest_events
from junkan.ingest import ingest
from junkan.pool.refs import candidate_ref
from junkan.privacy.erasure import erase, look_up
from junkan.privacy.export import export_person
from junkan.privacy.find import NotAKey, RequestKeys, describe
from tests.integration._ingest_support import FixedClock, ListAdapter, app
from tests.integration.test_privacy_erasure import EMAIL, NAME, holding, load_hanako
from tests.privacy_support import KEY, hashed

NOW = datetime(2026, 11, 20, tzinfo=UTC)
STAMP = int(NOW.timestamp())
PHONE_TYPED = "090-1111-2222"
SHARE = "share1@example.jp"
SHARE_NAME = "共有 一郎"
#: Every form the phone takes somewhere in the database or in a raw record.
PHONE_FORMS = (PHONE_TYPED, "09011112222", "+819011112222", "０９０－１１１１－２２２２")


def _export(engine: Engine, settings: Settings, keys: RequestKeys | str) -> dict[str, Any]:
    with engine.connect() as conn:
        return export_person(conn, keys, KEY, links=settings.links)


# -- provider events that match no message ---------------------------------------------------------------

ORPHANS = [
    {"event": "bounce", "email": EMAIL, "timestamp": STAMP - 300, "sg_event_id": "o-bounce",
     "type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address",
     "reason": f"550 5.1.1 <{EMAIL}>: {NAME} 様 ({PHONE_TYPED}) unknown"},
    {"event": "click", "email": EMAIL, "timestamp": STAMP - 200, "sg_event_id": "o-click",
     "url": f"https://jobs.example.jp/apply?name={NAME}&tel=09011112222#top"},
    {"event": "delivered", "email": EMAIL.upper(), "timestamp": STAMP - 100, "sg_event_id": "o-delivered",
     "response": f"250 2.0.0 OK for {NAME}", "sg_message_id": "unknown-x.filter"},
    {"event": "open", "email": f" {EMAIL} ", "timestamp": STAMP - 50, "sg_event_id": "o-open"},
]


def test_the_export_holds_provider_events_that_matched_no_message(engine: Engine, settings: Settings) -> None:
    load_hanako(engine)
    with session_scope(engine) as s:
        result = ingest_events(s, ORPHANS, now=NOW, key=KEY)
    assert (result.stored, result.unmatched) == (4, 4)

    exported = _export(engine, settings, EMAIL)

    events = {r["sg_event_id"] for r in exported["tables"]["email_event"]}
    assert {"o-bounce", "o-click", "o-delivered", "o-open"} <= events
    assert {m["id"] for m in exported["matched"] if m["table"] == "email_event"} == {
        r["id"] for r in exported["tables"]["email_event"] if r["message_id"] is None}


def test_provider_events_keep_no_personal_text(engine: Engine) -> None:
    """Minimised at the door: the bounce keeps its SMTP codes and class, the click its bare URL."""
    with session_scope(engine) as s:
        ingest_events(s, ORPHANS, now=NOW, key=KEY)
    with session_scope(engine) as s:
        stored = {e.sg_event_id: e.payload for e in s.scalars(select(EmailEvent))}
    assert holding(engine, NAME, PHONE_TYPED, "09011112222", EMAIL) == []
    assert {k: stored["o-bounce"].get(k) for k in ("status", "bounce_classification", "reason_code")} == {
        "status": "5.1.1", "bounce_classification": "Invalid Address", "reason_code": "550 5.1.1"}
    assert "reason" not in stored["o-bounce"]
    assert stored["o-click"]["url"] == "https://jobs.example.jp/apply"
    assert stored["o-delivered"]["response_code"] == "250 2.0.0"


def test_an_invalid_event_is_quarantined_minimised_too(engine: Engine) -> None:
    poison = {**ORPHANS[0], "timestamp": "yesterday", "sg_event_id": "o-poison"}
    with session_scope(engine) as s:
        assert ingest_events(s, [poison], now=NOW, key=KEY).invalid == 1
    assert holding(engine, NAME, PHONE_TYPED, EMAIL) == []


# -- the phone as typed, records under a mistyped address ------------------------------------------------

def _load_shared(engine: Engine) -> None:
    """The same person twice (a mistyped address, same name and phone), plus a broken record of theirs."""
    raw = {"name": SHARE_NAME, "phone": PHONE_TYPED}
    records: list[Any] = [
        app("S-1", email=SHARE, name=SHARE_NAME, phone=PHONE_TYPED, raw={**raw, "id": "S-1", "email": SHARE}),
        app("S-2", email="share1@exmaple.jp", name=SHARE_NAME, phone="09011112222",
            raw={**raw, "id": "S-2", "email": "share1@exmaple.jp"}),
        BadRecord("row 7: unreadable date", {**raw, "email": "share1@@example.jp", "応募日": "昨日"},
                  external_id="S-3"),
        BadRecord("row 8: unreadable date", {"氏名": SHARE_NAME, "電話番号": "０９０－１１１１－２２２２"},
                  external_id=None),
        app("OTHER-1", email="other@example.jp", raw={"id": "OTHER-1"}),
    ]
    ingest(engine, ListAdapter(records), clock=FixedClock(), hash_key=KEY)
    with session_scope(engine) as s:
        assert s.scalar(select(Candidate.id).where(Candidate.email_key == SHARE)) is not None
        assert len(s.scalars(select(Quarantine)).all()) == 2


@pytest.mark.parametrize("typed", ["+81 90 1111 2222", PHONE_TYPED, "(090) 1111-2222",
                                   "０９０１１１１２２２２"])
def test_a_phone_is_found_in_every_stored_form(engine: Engine, settings: Settings, typed: str) -> None:
    _load_shared(engine)
    exported = _export(engine, settings, RequestKeys(phones=(typed,)))
    tables = exported["tables"]
    assert sorted(r["external_id"] for r in tables["application"]) == ["S-1", "S-2"]
    assert len(tables["quarantine"]) == 2  # kept as typed: with hyphens, and in full width
    assert len(tables["decision_log"]) == 2
    assert "other@example.jp" not in json.dumps(exported, ensure_ascii=False)


def test_an_erasure_by_address_and_phone_takes_every_record_of_the_person(
    engine: Engine, settings: Settings
) -> None:
    _load_shared(engine)
    assert holding(engine, SHARE_NAME, *PHONE_FORMS)

    keys = RequestKeys(emails=(SHARE,), phones=(PHONE_TYPED,))
    listed = describe(look_up(engine, settings, keys))
    result = erase(engine, settings, keys, reason="ticket 9", now=NOW)

    assert result.candidates == 2
    assert holding(engine, SHARE_NAME, "share1@", *PHONE_FORMS) == []
    with session_scope(engine) as s:
        ids = dict(s.execute(select(Application.external_id, Application.candidate_id)).all())
        first, second = ids["S-1"], ids["S-2"]
        assert s.scalars(select(DecisionLog.payload).where(DecisionLog.application_id.in_(
            select(Application.id).where(Application.external_id.in_(["S-1", "S-2"]))))).all() == [{}, {}]
        assert s.scalar(select(Candidate.display_name).where(Candidate.email_key == "other@example.jp"))
    # Listed by our ids and the key that matched, naming no one.
    assert f"candidate {first}: email, phone" in listed and f"candidate {second}: phone" in listed
    assert sum(line.startswith("quarantine ") and "phone" in line for line in listed) == 2
    assert not any(x in "\n".join(listed) for x in (SHARE, SHARE_NAME, *PHONE_FORMS))


def test_an_erasure_by_address_alone_names_the_record_sharing_the_phone(
    engine: Engine, settings: Settings
) -> None:
    _load_shared(engine)
    found = look_up(engine, settings, RequestKeys(emails=(SHARE,)))
    with session_scope(engine) as s:
        second = s.scalar(select(Application.candidate_id).where(Application.external_id == "S-2"))
    assert second not in found.candidates
    hint = f"not included: candidate {second} shares the phone"
    assert any(line.startswith(hint) for line in describe(found))
    # Its broken records carry the phone of the candidate found: they are the person's, and are taken.
    assert len(found.quarantine) == 2


def test_a_candidate_ref_or_an_application_id_finds_the_person(engine: Engine, settings: Settings) -> None:
    _load_shared(engine)
    with session_scope(engine) as s:
        first = s.scalar(select(Candidate.id).where(Candidate.email_key == SHARE))
    assert first is not None
    by_ref = look_up(engine, settings, RequestKeys(candidate_refs=(candidate_ref(first, settings.links),)))
    by_app = look_up(engine, settings, RequestKeys(application_ids=("S-1",)))
    assert by_ref.candidates == {first: {"candidate_ref"}}
    assert by_app.candidates == {first: {"application_id"}}
    # The broken record S-3 is found by its application id too.
    assert len(look_up(engine, settings, RequestKeys(application_ids=("S-3",))).quarantine) == 1

    result = erase(engine, settings, RequestKeys(application_ids=("S-1",)), reason=None, now=NOW)
    assert result.candidates == 1
    assert not holding(engine, SHARE)


def test_keys_that_cannot_name_anyone_are_refused_in_one_line(engine: Engine, settings: Settings) -> None:
    for keys in (RequestKeys(), RequestKeys(emails=(" ",)), RequestKeys(phones=("call me",)),
                 RequestKeys(candidate_refs=("42",))):
        with pytest.raises(NotAKey) as caught:
            look_up(engine, settings, keys)
        assert "\n" not in str(caught.value) and "call me" not in str(caught.value)


def test_a_reason_naming_the_phone_is_refused(engine: Engine, settings: Settings) -> None:
    _load_shared(engine)
    with pytest.raises(ValueError, match="personal data"):
        erase(engine, settings, RequestKeys(emails=(SHARE,)), reason="called from 09011112222", now=NOW)
    with pytest.raises(ValueError, match="personal data"):
        erase(engine, settings, RequestKeys(emails=(SHARE,)), reason="共有一郎 asked", now=NOW)
    assert holding(engine, SHARE)


def test_the_erasure_reaches_provider_events_of_the_person(engine: Engine, settings: Settings) -> None:
    load_hanako(engine)
    with session_scope(engine) as s:
        ingest_events(s, ORPHANS, now=NOW, key=KEY)
        kept = s.scalar(select(EmailEvent.email_hash).where(EmailEvent.sg_event_id == "o-open"))
    assert kept == hashed(EMAIL)
    erase(engine, settings, EMAIL, reason=None, now=NOW)
    with session_scope(engine) as s:
        assert s.scalars(select(EmailEvent.email_hash).where(EmailEvent.sg_event_id.like("o-%"))).all() == [
            None] * 4


def test_a_person_held_only_in_the_quarantine_is_erased_by_phone(engine: Engine, settings: Settings) -> None:
    broken = BadRecord("row 2: unreadable date", {"氏名": SHARE_NAME, "電話": "TEL 090 1111 2222"},
                       external_id=None)
    ingest(engine, ListAdapter([broken]), clock=FixedClock(), hash_key=KEY)
    assert holding(engine, SHARE_NAME)

    result = erase(engine, settings, RequestKeys(phones=("09011112222",)), reason=None, now=NOW)

    assert (result.candidates, result.tables) == (0, {"quarantine": 1})
    assert holding(engine, SHARE_NAME, "1111") == []
