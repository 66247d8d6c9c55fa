"""A real CP932 spreadsheet export through the CSV adapter into the database."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from junkan.ats.csv_source import CsvAdapter
from junkan.db.models import Application, Candidate, Quarantine, RejectionReason
from junkan.ingest import ingest
from tests.integration._ingest_support import RERUN_BOOKKEEPING, FixedClock, dump, rows

HEADERS = ["応募ID", "氏名", "メールアドレス", "電話番号", "応募日", "求人", "選考結果", "不採用理由",
           "選考結果日", "タレントプール同意"]
STATUSES = ["不採用", "不採用", "選考中", "採用", "辞退"]
REASONS = ["スキル不足", "他の候補者を優先", "ポジション充足", "経験不足"]

# Spreadsheet row (header is row 1) -> what is wrong with it, and what the quarantine reason must say.
MALFORMED: dict[int, tuple[dict[str, str], str]] = {
    12: ({"メールアドレス": ""}, "row 12: missing e-mail address"),
    103: ({"メールアドレス": "yamada.example.jp"}, "row 103: invalid e-mail address"),
    204: ({"選考結果": "保留"}, "row 204: unknown status '保留'"),
    305: ({"応募日": "2026/13/45"}, "row 305: column 応募日 (applied_at): cannot read the date '2026/13/45'"),
    406: ({"氏名": "山" * 201}, "row 406: field name is 201 characters (limit 200)"),
    507: ({"応募ID": "A-00020", "選考結果": "採用"}, "row 507: duplicate application id 'A-00020' with "
          "conflicting data"),
    608: ({"選考結果": "不採用", "選考結果日": ""}, "row 608: status 'rejected' without a decision date"),
    709: ({"選考結果": ""}, "row 709: column 選考結果 (status) is empty"),
    810: ({"タレントプール同意": "たぶん"},
          "row 810: column タレントプール同意 (talent_pool_consent): cannot read the consent answer"),
    911: ({"選考結果": "不採用", "不採用理由": "理" * 501},
          "row 911: field reason_text is 501 characters (limit 500)"),
}


def write_export(path: Path, n: int = 1000) -> None:
    """A CP932 export like a Japanese HR team would download: full-width digits in dates, 不採用 etc."""
    start = date(2026, 4, 1)
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADERS)
        writer.writeheader()
        for i in range(n):
            row_number = i + 2
            status = STATUSES[i % len(STATUSES)]
            applied = start + timedelta(days=i % 200)
            decided = applied + timedelta(days=14)
            row = {
                "応募ID": f"A-{i:05d}",
                "氏名": f"山田 太郎{i}",
                # Every 50th address is typed full-width, as happens with Japanese IMEs.
                "メールアドレス": f"ｃａｎｄ{i}＠ｅｘａｍｐｌｅ．ｊｐ" if i % 50 == 0
                else f"cand{i}@example.jp",
                "電話番号": f"090-{i:04d}-{(i * 7) % 10000:04d}",
                "応募日": applied.strftime("%Y/%m/%d"),
                "求人": f"営業職{i % 7}",
                "選考結果": status,
                "不採用理由": REASONS[i % len(REASONS)] if status in ("不採用", "辞退") else "",
                "選考結果日": decided.strftime("%Y年%m月%d日") if status != "選考中" else "",
                "タレントプール同意": "はい" if i % 3 == 0 else "いいえ",
            }
            if row_number in MALFORMED:
                row.update(MALFORMED[row_number][0])
            writer.writerow(row)


def test_eight_unstorable_rows_among_1000_are_quarantined_and_992_ingested(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "応募者一覧.csv"
    write_export(path)
    clock = FixedClock()
    counts = ingest(engine, CsvAdapter(path), as_of=None, clock=clock)

    # Rows 12 and 103 have no usable address: stored and counted, listed for review, not quarantined.
    assert (counts.new, counts.quarantined, counts.no_address) == (992, 8, 2)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Application)).scalar_one() == 992
        assert conn.execute(select(func.count()).select_from(Candidate)).scalar_one() == 992
    entries = rows(engine, Quarantine)
    assert len(entries) == 10
    assert sorted(e.raw["_row"] for e in entries if e.record_type == "address") == [12, 103]
    by_row = {entry.raw["_row"]: entry.reason for entry in entries}
    assert sorted(by_row) == sorted(MALFORMED)
    for row_number, (_change, expected) in MALFORMED.items():
        assert by_row[row_number].startswith(expected), (row_number, by_row[row_number])
    # Of the conflicting duplicates, the first (row 22, rejected) is kept; row 507 (hired) is quarantined.
    assert [a.status for a in rows(engine, Application, Application.external_id == "A-00020")] == ["rejected"]

    full_width = rows(engine, Candidate, Candidate.email_key == "cand50@example.jp")
    assert len(full_width) == 1
    reasons = {r.name: r.pool_eligibility for r in rows(engine, RejectionReason)}
    assert reasons["他の候補者を優先"] == "silver" and reasons["スキル不足"] == "standard"

    # The file is a snapshot: importing it again changes nothing but the quarantine sightings.
    before = dump(engine, RERUN_BOOKKEEPING)
    again = ingest(engine, CsvAdapter(path), as_of=None, clock=clock)
    assert (again.new, again.updated, again.unchanged, again.quarantined) == (0, 0, 992, 8)
    assert dump(engine, RERUN_BOOKKEEPING) == before
