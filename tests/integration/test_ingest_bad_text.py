"""Text no database can hold, and identity keys that must not be guessed: the run goes on, on both
databases alike, and what cannot be stored is quarantined with the row and the column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from junkan.ats.base import BadRecord, JobRecord, ReasonRecord
from junkan.ats.csv_source import CsvAdapter
from junkan.db.models import Application, Candidate, DecisionLog, Job, Quarantine, RejectionReason
from junkan.ingest import ingest
from tests.integration._ingest_support import FixedClock, ListAdapter, app, rows

HEADERS = ["応募ID", "氏名", "メールアドレス", "応募日", "求人", "選考段階", "選考結果", "不採用理由",
           "選考結果日", "メモ"]


def _row(external_id: str, **cells: str) -> list[str]:
    values = {"応募ID": external_id, "氏名": "山田 太郎",
              "メールアドレス": f"{external_id.lower()}@example.jp", "応募日": "2026/10/01",
              "求人": "営業職", "選考段階": "一次面接", "選考結果": "不採用",
              "不採用理由": "スキル不足", "選考結果日": "2026/10/15", "メモ": ""}
    values.update(cells)
    return [values[h] for h in HEADERS]


def _write(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(data)
    return path


def _reasons(engine: Engine) -> dict[str | None, str]:
    entries = rows(engine, Quarantine, Quarantine.record_type == "application")
    return {q.external_id: q.reason for q in entries}


def test_nul_and_other_control_characters_in_a_spreadsheet_quarantine_their_rows_only(
    engine: Engine, tmp_path: Path
) -> None:
    export = _write(tmp_path / "export.csv", [
        _row("A-1"),
        _row("A-2", 氏名="山田\x00花子"),
        _row("A-3", 不採用理由="スキル\x00不足"),
        _row("A-4", メモ="電話\x00あり"),  # a column ingest does not read: only the payload keeps it
        _row("A-5", 求人="営業\x01職"),
        _row("A-6", 選考段階="最終\x1b面接", 選考結果="選考中", 不採用理由="", 選考結果日=""),
    ])

    counts = ingest(engine, CsvAdapter(export, source="csv"), clock=FixedClock())

    stored = {a.external_id for a in rows(engine, Application)}
    assert stored == {"A-1", "A-4"}
    assert counts.new + counts.quarantined == 6
    assert _reasons(engine) == {
        "A-2": "row 3: field name contains a control character (U+0000)",
        "A-3": "row 4: field reason_external_id contains a control character (U+0000); "
               "field reason_text contains a control character (U+0000)",
        "A-5": "row 6: field job_title contains a control character (U+0001)",
        "A-6": "row 7: field stage contains a control character (U+001B)",
    }
    # The payload of the stored record keeps the note, with the NUL made storable.
    logged = {r.application_id: r.payload for r in rows(engine, DecisionLog)}
    a4 = next(a for a in rows(engine, Application) if a.external_id == "A-4")
    assert logged[a4.id]["メモ"] == "電話\ufffdあり"
    # The quarantined raw row is kept for the operator, storable on either database.
    raw = next(q.raw for q in rows(engine, Quarantine) if q.external_id == "A-2")
    assert raw["氏名"] == "山田\ufffd花子"


@pytest.mark.parametrize(("field", "value"), [
    ("name", "山田\x00太郎"), ("reason_text", "スキル\x00不足"), ("stage", "一次\x00面接"),
    ("job_title", "営業\x00職"), ("job_external_id", "job\x00-9"), ("reason_external_id", "r\x00-skill"),
    ("external_id", "9\x00"), ("phone", "090\x001234\x005678"),
    ("name", "山田\ud800太郎"), ("reason_text", "\udcff"), ("name", "\x7f山田"), ("name", "山田\x85\x9b"),
])
def test_every_text_field_with_a_control_character_is_quarantined_on_both_databases(
    engine: Engine, field: str, value: str
) -> None:
    record = app("9", **{field: value}) if field != "external_id" else app(value)
    adapter = ListAdapter([app("1"), record, app("2")])

    counts = ingest(engine, adapter, clock=FixedClock())

    assert (counts.new, counts.quarantined) == (2, 1)
    (entry,) = rows(engine, Quarantine)
    shown = "email" if field == "email" else field
    assert f"field {shown} contains a control character (U+" in entry.reason
    assert value not in entry.reason


def test_an_address_with_a_control_character_is_dropped_and_the_decision_stored(engine: Engine) -> None:
    counts = ingest(engine, ListAdapter([app("1"), app("9", "rejected", email="ta\x00ro@example.jp")]),
                    clock=FixedClock())

    assert (counts.new, counts.quarantined, counts.no_address) == (2, 0, 1)
    stored = {a.external_id: a.candidate_id for a in rows(engine, Application)}
    (keyless,) = rows(engine, Candidate, Candidate.id == stored["9"])
    assert keyless.email_key is None
    (entry,) = rows(engine, Quarantine)
    assert (entry.record_type, entry.reason) == (
        "address", "field email contains a control character (U+0000)")


def test_tags_consent_wording_and_raw_payload_are_checked_too(engine: Engine) -> None:
    adapter = ListAdapter([
        app("1", tags=("新卒", "エンジ\x00ニア")),
        app("2", raw={"id": "2", "consent_wording_version": "v\x002"}),
        app("3", raw={"id": "3", "note\x00": "x\ud83d", "nested": {"deep": ["a\x00b"]}}),
    ])

    counts = ingest(engine, adapter, clock=FixedClock())

    assert (counts.new, counts.quarantined) == (1, 2)
    assert _reasons(engine) == {"1": "field tags contains a control character (U+0000)",
                                "2": "field consent_wording_version contains a control character (U+0000)"}
    (log,) = rows(engine, DecisionLog)
    assert log.payload == {"id": "3", "note\ufffd": "x\ufffd", "nested": {"deep": ["a\ufffdb"]}}


def test_an_adapters_bad_record_quoting_a_nul_cell_is_stored(engine: Engine) -> None:
    bad = BadRecord(reason="row 4: column 応募日 (applied_at): cannot read the date '2026\x00/10'",
                    raw={"応募日": "2026\x00/10", "_row": 4}, external_id="A\x00-4")
    counts = ingest(engine, ListAdapter([bad, app("1")]), clock=FixedClock())

    assert (counts.new, counts.quarantined) == (1, 1)
    (entry,) = rows(engine, Quarantine)
    assert entry.reason == "row 4: column 応募日 (applied_at): cannot read the date '2026\ufffd/10'"
    assert entry.external_id == "A\ufffd-4" and entry.raw["応募日"] == "2026\ufffd/10"


def test_reference_records_with_control_characters_are_quarantined_the_rest_synced(engine: Engine) -> None:
    adapter = ListAdapter(
        [app("1")],
        jobs=[JobRecord("job-1", "バックエンドエンジニア", "open"), JobRecord("job-2", "営業\x00職", "open"),
              JobRecord("job-3", "経理", "open", department="管理\x02部")],
        reasons=[ReasonRecord("r-skill", "スキル不足"), ReasonRecord("r-bad", "他の\ud800候補者")],
    )

    counts = ingest(engine, adapter, clock=FixedClock())

    assert (counts.new, counts.quarantined, counts.reference_quarantined) == (1, 0, 3)
    assert [j.external_id for j in rows(engine, Job)] == ["job-1"]
    assert [r.external_id for r in rows(engine, RejectionReason)] == ["r-skill"]
    reasons = {(q.record_type, q.external_id): q.reason for q in rows(engine, Quarantine)}
    assert reasons == {
        ("job", "job-2"): "job field title contains a control character (U+0000)",
        ("job", "job-3"): "job field department contains a control character (U+0002)",
        ("rejection_reason", "r-bad"): "rejection reason field name contains a control character (U+D800)",
    }


# -- identity keys are never guessed -------------------------------------------------------------------

@pytest.mark.parametrize("address", ["ta ro@example.com", "ta\u3000ro@example.com", "taro.@example.com",
                                     ".taro@example.com", "ta..ro@example.com"])
def test_an_address_that_only_resembles_another_is_never_merged_with_it(engine: Engine, address: str) -> None:
    adapter = ListAdapter([app("1", email="taro@example.com", name="山田 太郎"),
                           app("2", email=address, name="別人 花子")])

    counts = ingest(engine, adapter, clock=FixedClock())

    # Both decisions are stored; the unusable address gives its application a candidate of its own,
    # with no identity key, and a review entry (not a quarantined record).
    assert (counts.new, counts.quarantined, counts.no_address) == (2, 0, 1)
    people = {c.id: (c.email_key, c.display_name) for c in rows(engine, Candidate)}
    assert len(people) == 2
    owners = {a.external_id: people[a.candidate_id] for a in rows(engine, Application)}
    assert owners == {"1": ("taro@example.com", "山田 太郎"), "2": (None, "別人 花子")}
    (entry,) = rows(engine, Quarantine)
    assert (entry.external_id, entry.record_type, entry.reason) == (
        "2", "address", "invalid e-mail address (expected name@domain.tld)")

