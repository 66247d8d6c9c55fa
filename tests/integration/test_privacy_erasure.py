"""Erasure and access requests: nothing of the person is left in any table, on both databases; the
KPIs still add up; suppression still holds; an old export does not bring the person back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Engine, String, Text, func, select

import junkan.db.all_models  # noqa: F401
from junkan.ats.base import BadRecord
from junkan.clock import RunClock
from junkan.config import Settings
from junkan.consent.preferences import Preferences, latest_preferences, record_preferences, record_visit
from junkan.consent.suppressed import suppressed_among
from junkan.db import session_scope
from junkan.db.models import Base, Candidate, Consent, Message, Quarantine
from junkan.db.models_engagement import EmailEvent
from junkan.db.models_pool import PoolTag
from junkan.db.models_privacy import ErasureTombstone, PrivacyAudit
from junkan.engagement.events import ingest_events
from junkan.engagement.optout import suppress
from junkan.ingest import ingest
from junkan.privacy.erasure import erase
from junkan.privacy.export import export_person
from junkan.privacy.run import run_retention
from junkan.privacy.tables import NO_PERSON_TABLES, PERSON_TABLES
from junkan.reports.build import build_report
from junkan.reports.periods import month
from tests.integration._ingest_support import FixedClock, ListAdapter, app
from tests.integration._report_data import load_october, load_october_pool, october_settings
from tests.privacy_support import KEY, hashed

EMAIL = "hanako.sato@example.jp"
NAME = "佐藤 花子"
PHONE = "+819012345678"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def export_of_hanako() -> list[Any]:
    rows = [app(f"H-{n}", email=EMAIL, name=NAME, phone="090-1234-5678",
                raw={"id": f"H-{n}", "email": EMAIL, "name": NAME, "phone": "090-1234-5678"})
            for n in range(2)]
    return [*rows, app("OTHER-1", email="other@example.jp", raw={"id": "OTHER-1"})]


def load_hanako(engine: Engine) -> int:
    ingest(engine, ListAdapter(export_of_hanako()), clock=FixedClock(), hash_key=KEY)
    with session_scope(engine) as s:
        cid = s.scalar(select(Candidate.id).where(Candidate.email_key == EMAIL))
        assert cid is not None
        msg = Message(public_id="pub1", logical_key="application:1:rejection", kind="rejection",
                      candidate_id=cid, state="accepted", due_at=NOW, subject=f"{NAME} 様",
                      body_text=f"{NAME} 様 … https://r.example/{EMAIL}", body_html=f"<p>{NAME} 様</p>",
                      last_error=f"550 {EMAIL} unknown")
        s.add(msg)
        s.flush()
        s.add(EmailEvent(sg_event_id="e1", dedup_key="d1", message_id=msg.id, event="delivered",
                         occurred_at=NOW, email_hash="x", payload={"email": EMAIL}))
        s.add(Quarantine(source="test", external_id=None, fingerprint="f1", reason="row 3: bad date",
                         raw={"email": EMAIL, "name": NAME}))
        s.add(PoolTag(candidate_id=cid, tag=f"{NAME}さん 要連絡"))
        s.add(Consent(candidate_id=cid, purpose="talent_pool", granted=True, recorded_at=NOW, source="test"))
        # What she typed on her own page names her; the places and skills she chose say who she is.
        record_visit(s, cid, at=NOW)
        record_preferences(s, cid, Preferences(
            families=("sales",), other_interest=f"{NAME}: 法人営業", locations=("札幌市",), timing_months=6,
            skills_text=f"連絡は {EMAIL} へ", skills=("bookkeeping",)), at=NOW, wording_version="v")
        suppress(s, [(EMAIL, "unsubscribe")], source="unsubscribe", at=NOW, key=KEY)
    return cid


def text_values(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, text) for every String, Text and JSON value in every table of the schema."""
    found = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)
                    or "JSON" in type(c.type).__name__.upper()]
            for row in conn.execute(select(*cols)) if cols else []:
                for col, value in zip(cols, row, strict=True):
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        found.append((table.name, col.name, text))
    return found


def holding(engine: Engine, *needles: str) -> list[tuple[str, str]]:
    return sorted({(t, c) for t, c, text in text_values(engine) if any(n in text for n in needles)})


def test_after_an_erasure_no_table_holds_the_address_name_or_phone(
    engine: Engine, settings: Settings
) -> None:
    cid = load_hanako(engine)
    assert holding(engine, EMAIL, NAME, PHONE)  # the scan sees them before

    result = erase(engine, settings, " Hanako.Sato@EXAMPLE.jp ", reason="access request ticket 1234", now=NOW)

    assert result.candidates == 1
    assert holding(engine, EMAIL, NAME, PHONE, "090-1234-5678") == []
    with session_scope(engine) as s:
        stones = s.execute(select(ErasureTombstone.source, ErasureTombstone.external_id,
                                  ErasureTombstone.email_hash)).all()
        assert sorted(stones) == [("test", "H-0", hashed(EMAIL)), ("test", "H-1", hashed(EMAIL))]
        audit = s.scalars(select(PrivacyAudit)).one()
        assert (audit.action, audit.rule, audit.candidates, audit.reason) == (
            "erase", "request", 1, "access request ticket 1234")
        assert audit.tables["candidate"] == 1 and audit.tables["decision_log"] == 2
        # Suppression still stops mail to the address.
        assert suppressed_among(s, [EMAIL], KEY) == {EMAIL}
        # Her page's choices keep only what the report counts: the kinds of work and the timing.
        kept = latest_preferences(s)[cid].preferences
        assert kept == Preferences(families=("sales",), timing_months=6)
        assert audit.tables["candidate_preference"] == 1


def test_provider_events_of_an_erased_person_keep_nothing_of_the_address(
    engine: Engine, settings: Settings
) -> None:
    load_hanako(engine)
    stamp = int(NOW.timestamp())
    # An event SendGrid could not tie to a message keeps the keyed hash of its recipient, to attach it later.
    orphan = {"event": "bounce", "email": EMAIL, "timestamp": stamp - 60, "sg_event_id": "orphan-1"}
    with session_scope(engine) as s:
        ingest_events(s, [orphan], now=NOW, key=KEY)
        stored = s.scalar(select(EmailEvent.email_hash).where(EmailEvent.sg_event_id == "orphan-1"))
    assert stored == hashed(EMAIL)

    erase(engine, settings, EMAIL, reason=None, now=NOW)
    # Her notice's open arrives after the erasure, as SendGrid reports late.
    late = {"event": "open", "email": EMAIL, "timestamp": stamp + 60, "sg_event_id": "late-1",
            "junkan_message_id": "pub1"}
    with session_scope(engine) as s:
        ingest_events(s, [late], now=NOW, key=KEY)
        rows = dict(s.execute(select(EmailEvent.sg_event_id, EmailEvent.email_hash)).all())
        late_row = s.scalars(select(EmailEvent).where(EmailEvent.sg_event_id == "late-1")).one()

    assert late_row.message_id is not None and "email" not in late_row.payload
    assert rows["orphan-1"] is None and rows["late-1"] is None  # no hash of her address, keyed or plain
    assert holding(engine, EMAIL, NAME, PHONE) == []


def test_ingesting_the_same_old_export_again_does_not_bring_the_person_back(
    engine: Engine, settings: Settings
) -> None:
    load_hanako(engine)
    erase(engine, settings, EMAIL, reason=None, now=NOW)
    with session_scope(engine) as s:
        before = s.scalar(select(func.count()).select_from(Candidate))

    counts = ingest(engine, ListAdapter(export_of_hanako()), clock=FixedClock(), full=True, hash_key=KEY)
    # A new application under a new id is caught by the address hash.
    later = ingest(engine, ListAdapter([app("H-9", email=EMAIL.upper(), name=NAME)]), clock=FixedClock(),
                   hash_key=KEY)

    # A broken record of hers under an erased id is not quarantined (the quarantine keeps raw data) either.
    broken = ingest(engine, ListAdapter([BadRecord("unreadable row", {"email": EMAIL}, external_id="H-0")]),
                    clock=FixedClock(), hash_key=KEY)

    assert counts.erased == 2 and later.erased == 1 and later.new == 0
    assert broken.erased == 1 and broken.quarantined == 0
    assert holding(engine, EMAIL, NAME, PHONE) == []
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Candidate)) == before


def test_a_reason_naming_the_person_is_refused(engine: Engine, settings: Settings) -> None:
    load_hanako(engine)
    try:
        erase(engine, settings, EMAIL, reason=f"request from {EMAIL}", now=NOW)
    except ValueError as exc:
        assert "personal data" in str(exc)
    else:
        raise AssertionError("the reason holding the address was accepted")
    assert holding(engine, EMAIL)  # nothing was erased


def test_the_kpis_add_up_after_erasure_and_anonymisation(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    load_october_pool(engine)
    configured = october_settings(settings)
    before = build_report(engine, configured, month(2026, 10), trend_months=0, recompute=True).kpis

    erase(engine, configured, "c1@example.com", reason=None, now=NOW)
    retention = run_retention(engine, configured, RunClock.fixed(NOW, as_of=date(2029, 1, 1)))
    after = build_report(engine, configured, month(2026, 10), trend_months=0, recompute=True).kpis

    assert sum(retention.by_rule.values()) > 0
    assert {k: v["value"] for k, v in after.items()} == {k: v["value"] for k, v in before.items()}
    assert {k: v.get("inputs") for k, v in after.items()} == {k: v.get("inputs") for k, v in before.items()}


def test_every_table_is_mapped_and_every_person_link_is_followed() -> None:
    tables = set(Base.metadata.tables)
    assert set(PERSON_TABLES) | set(NO_PERSON_TABLES) == tables
    assert not set(PERSON_TABLES) & set(NO_PERSON_TABLES)
    linked = {t.name for t in Base.metadata.sorted_tables
              if any(fk.column.table.name in ("candidate", "application", "message")
                     for fk in t.foreign_keys)}
    assert linked <= set(PERSON_TABLES)


def test_the_export_holds_the_persons_rows_from_every_table_that_has_any(
    engine: Engine, settings: Settings
) -> None:
    cid = load_hanako(engine)
    with engine.connect() as conn:
        exported = export_person(conn, EMAIL, KEY, links=settings.links)
    assert exported["email"] == EMAIL
    tables = exported["tables"]
    # Every table with a row of hers (by candidate id, or naming her) is in the export, with those rows.
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "candidate_id" in table.c:
                ids = sorted(r[0] for r in conn.execute(select(table.primary_key.columns.values()[0])
                                                        .where(table.c.candidate_id == cid)))
                pk = table.primary_key.columns.values()[0].name
                assert sorted(r[pk] for r in tables.get(table.name, [])) == ids, table.name
    naming = {t for t, _ in holding(engine, EMAIL, NAME, PHONE)}
    assert naming <= set(tables), naming - set(tables)
    assert [r["id"] for r in tables["candidate"]] == [cid]
    assert sorted(r["external_id"] for r in tables["application"]) == ["H-0", "H-1"]
    assert len(tables["decision_log"]) == 2 and len(tables["email_event"]) == 1
    assert tables["suppression"][0]["email_hash"] == hashed(EMAIL)
    assert "other@example.jp" not in json.dumps(exported, ensure_ascii=False)
