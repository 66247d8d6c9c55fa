"""A spreadsheet with broken rows through ingest: rows in = rows stored + rows quarantined, and the
quarantine names each broken row and column without repeating its content."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
from sqlalchemy import Engine, func, select

from junkan.ats.csv_source import CsvAdapter
from junkan.db.models import Application, Quarantine
from junkan.ingest import ingest
from tests.integration._ingest_support import FixedClock, rows

HEADER = "応募ID,氏名,メールアドレス,選考結果,選考結果日,メモ"


def data_row(i: int, name: str | None = None, memo: str = "") -> str:
    return f"A-{i:03d},{name or f'候補者{i}'},user{i}@example.jp,不採用,2026/11/05,{memo}"


def test_a_huge_cell_and_an_unclosed_quote_cost_only_their_own_rows(engine: Engine, tmp_path: Path) -> None:
    lines = [HEADER]
    for i in range(1, 101):
        if i == 20:
            lines.append(data_row(i, name="x" * 5_000_000))  # a pasted 5 MB cell
        elif i == 50:
            lines.append(data_row(i, name='"山田 太郎'))  # a quote never closed
        elif i == 70:
            lines.append(data_row(i, memo='"一次面接: 良好\n二次面接: 辞退, 理由不明"'))  # a legitimate memo
        else:
            lines.append(data_row(i))
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))

    counts = ingest(engine, CsvAdapter(path), as_of=None, clock=FixedClock())

    assert (counts.new, counts.quarantined) == (98, 2)  # 100 rows in
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Application)).scalar_one() == 98
    by_row = {entry.raw["_row"]: entry.reason for entry in rows(engine, Quarantine)}
    assert by_row == {
        21: f"row 21: column 氏名 (name): the cell is larger than 131,072 characters (the row has "
            f"{len(lines[20]) + 2:,} characters); it was not read",
        51: 'row 51: column 氏名 (name): a quote (") opened in this cell is never closed (line 51); fix the '
            "quote and import again",
    }
    stored = {a.external_id for a in rows(engine, Application)}
    assert {"A-019", "A-021", "A-049", "A-051", "A-070"} <= stored and not {"A-020", "A-050"} & stored


def test_a_workbook_cell_past_the_limit_is_quarantined_and_the_rest_stored(engine: Engine,
                                                                           tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "応募者"
    book.create_sheet("メモ").append(["このシートは説明です"])
    book["応募者"].append(HEADER.split(","))
    for i in range(1, 11):
        book["応募者"].append(data_row(i, name="PASTED" if i == 4 else None).split(","))
    book.save(path)
    # openpyxl cuts what it writes at Excel's 32,767 characters; a crafted file need not.
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"PASTED", b"y" * 300_000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)

    counts = ingest(engine, CsvAdapter(path), as_of=None, clock=FixedClock())

    assert (counts.new, counts.quarantined) == (9, 1)
    (entry,) = rows(engine, Quarantine)
    assert entry.reason == ("row 5: column 氏名 (name): the cell is larger than 131,072 characters; it was "
                            "not read")
    assert entry.raw["応募ID"] == "A-004"
