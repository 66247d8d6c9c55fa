"""Faults of an .xlsx export: several sheets, decompression bombs, sizes that lie, huge cells, files that
are not workbooks. Refused before loading where loading is the danger; a bad row is quarantined."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from junkan.ats.base import ApplicationRecord, BadRecord, SourceFileError
from junkan.ats.csv_source import DEFAULT_LIMITS, CsvAdapter
from junkan.ats.factory import build_adapter
from junkan.ats.xlsx_reader import WorkbookLimits
from junkan.config import AtsSettings, Settings
from tests.ats_support import split_records

HEADER = ["応募ID", "氏名", "メールアドレス", "選考結果", "選考結果日"]


def row(i: int) -> list[object]:
    return [f"A-{i}", f"候補者{i}", f"user{i}@example.jp", "不採用", "2026/11/05"]


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for cells in rows:
            sheet.append(cells)
    book.save(path)
    return path


def rewrite(path: Path, member: str, change: object) -> Path:
    """Copy the workbook with one member's bytes passed through `change` (bytes -> bytes)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[member] = change(parts[member])  # type: ignore[operator]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def set_dimension(ref: str | None) -> object:
    def change(xml: bytes) -> bytes:
        replacement = b"" if ref is None else f'<dimension ref="{ref}"/>'.encode()
        return re.sub(rb"<dimension [^>]*/>", replacement, xml)

    return change


def read(path: Path, **kwargs: object) -> tuple[list[ApplicationRecord], list[BadRecord]]:
    return split_records(CsvAdapter(path, **kwargs).fetch_applications(None))  # type: ignore[arg-type]


def refusal(path: Path, **kwargs: object) -> str:
    with pytest.raises(SourceFileError) as exc:
        read(path, **kwargs)
    message = str(exc.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


# -- several sheets ---------------------------------------------------------------------------------


def test_the_only_sheet_with_a_header_is_read_among_several(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {
        "表紙": [["応募者一覧"], ["作成者", "人事部"]],
        "応募者": [HEADER, row(1), row(2)],
        "集計": [["選考結果", "件数"], ["不採用", 2]],  # a known column name, but no e-mail column
    })
    good, bad = read(path)
    assert bad == [] and [r.external_id for r in good] == ["A-1", "A-2"]


def test_several_sheets_with_a_header_are_refused_with_their_names(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {"11月": [HEADER, row(1)], "12月": [HEADER, row(2)],
                                              "メモ": [["メモ"]]})
    assert refusal(path) == ("several sheets have an application header ('11月', '12月'); set "
                             "JUNKAN_ATS__SHEET to the one to import")


def test_a_workbook_without_any_header_sheet_is_refused_with_the_sheet_names(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {"A": [["x"]], "B": [["y"]]})
    assert refusal(path) == ("none of the sheets ('A', 'B') has a header row with the required columns; set "
                             "JUNKAN_ATS__SHEET to the sheet to import")


def test_the_sheet_named_by_the_setting_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = workbook(tmp_path / "book.xlsx", {"11月": [HEADER, row(1)], "12月": [HEADER, row(2), row(3)]})
    monkeypatch.setenv("JUNKAN_ATS__PATH", str(path))
    monkeypatch.setenv("JUNKAN_ATS__SHEET", "12月")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.ats.sheet == "12月"

    records = list(build_adapter(settings.ats).fetch_applications(None))

    assert [r.external_id for r in records] == ["A-2", "A-3"]


def test_an_unknown_sheet_name_is_refused_listing_the_sheets(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {"11月": [HEADER, row(1)], "12月": [HEADER, row(2)]})
    assert refusal(path, sheet="1月") == ("no sheet named '1月' (JUNKAN_ATS__SHEET); the sheets are '11月', "
                                          "'12月'")


# -- size limits, checked before loading ------------------------------------------------------------


def bomb(path: Path, megabytes: int) -> Path:
    """A workbook whose sheet XML unpacks to `megabytes` MB of padding and compresses ~1000:1."""
    workbook(path, {"応募者": [HEADER, row(1)]})
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = parts.pop("xl/worksheets/sheet1.xml")
    cut = sheet.index(b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts.items():
            target.writestr(name, data)
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(sheet[:cut])
            padding = b"<row/>" * 170_000  # ~1 MB
            written = 0
            while written < megabytes * 1_000_000:
                member.write(padding)
                written += len(padding)
            member.write(sheet[cut:])
    return path


_MEASURE_RSS = """
import resource, sys
from pathlib import Path
from junkan.ats.csv_source import CsvAdapter
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    list(CsvAdapter(Path(sys.argv[1])).fetch_applications(None))
except Exception as exc:
    print(type(exc).__name__, str(exc).split(": ", 1)[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_decompression_bomb_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    path = bomb(tmp_path / "bomb.xlsx", 250)
    assert path.stat().st_size < 5_000_000
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist()) / 1_000_000

    result = subprocess.run([sys.executable, "-c", _MEASURE_RSS, str(path)], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    message, growth_kib = result.stdout.strip().splitlines()

    assert message == (f"SourceFileError the workbook unpacks to {unpacked:,.0f} MB, past the limit of "
                       f"200 MB (JUNKAN_ATS__MAX_UNCOMPRESSED_MB)")
    assert int(growth_kib) < 30_000, f"peak RSS grew by {growth_kib} KiB"


def test_the_size_limits_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = bomb(tmp_path / "bomb.xlsx", 3)
    monkeypatch.setenv("JUNKAN_ATS__PATH", str(path))
    monkeypatch.setenv("JUNKAN_ATS__MAX_UNCOMPRESSED_MB", "2")
    monkeypatch.setenv("JUNKAN_ATS__MAX_ROWS", "10")
    monkeypatch.setenv("JUNKAN_ATS__MAX_COLUMNS", "4")
    adapter = build_adapter(Settings(_env_file=None).ats)  # type: ignore[call-arg]
    with pytest.raises(SourceFileError, match=r"unpacks to 3 MB, past the limit of 2 MB"):
        list(adapter.fetch_applications(None))
    # The defaults of the adapter are the defaults of the settings.
    ats = AtsSettings()
    assert WorkbookLimits(ats.max_uncompressed_mb, ats.max_rows, ats.max_columns) == DEFAULT_LIMITS


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("A1:E2000000",
         "sheet '応募者' has 2,000,000 rows, past the limit of 1,000,000 (JUNKAN_ATS__MAX_ROWS)"),
        ("A1:XFD3", "sheet '応募者' has 16,384 columns, past the limit of 200 (JUNKAN_ATS__MAX_COLUMNS)"),
    ],
)
def test_a_declared_size_past_the_limits_is_refused_before_loading(tmp_path: Path, ref: str,
                                                                    problem: str) -> None:
    path = workbook(tmp_path / "big.xlsx", {"応募者": [HEADER, row(1), row(2)]})
    rewrite(path, "xl/worksheets/sheet1.xml", set_dimension(ref))
    assert refusal(path) == problem


def test_rows_are_counted_when_the_sheet_declares_no_size(tmp_path: Path) -> None:
    path = workbook(tmp_path / "unsized.xlsx", {"応募者": [HEADER, *(row(i) for i in range(1, 30))]})
    rewrite(path, "xl/worksheets/sheet1.xml", set_dimension(None))
    limits = WorkbookLimits(max_uncompressed_mb=200, max_rows=20, max_columns=200)
    assert refusal(path, limits=limits) == ("sheet '応募者' has 30 rows, past the limit of 20 "
                                            "(JUNKAN_ATS__MAX_ROWS)")
    good, bad = read(path)
    assert len(good) == 29 and bad == []


def test_a_declared_size_that_is_too_small_loses_no_rows(tmp_path: Path) -> None:
    path = workbook(tmp_path / "lying.xlsx", {"応募者": [HEADER, *(row(i) for i in range(1, 6))]})
    rewrite(path, "xl/worksheets/sheet1.xml", set_dimension("A1:B2"))
    good, bad = read(path)
    assert [r.external_id for r in good] == ["A-1", "A-2", "A-3", "A-4", "A-5"] and bad == []


# -- a huge cell ------------------------------------------------------------------------------------


def test_a_cell_past_the_limit_quarantines_its_row(tmp_path: Path) -> None:
    rows = [HEADER, row(1), row(2), row(3)]
    rows[2][1] = "PASTED"
    path = workbook(tmp_path / "big.xlsx", {"応募者": rows})
    # openpyxl cuts what it writes at Excel's 32,767 characters; a crafted file need not.
    rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"PASTED", "長".encode() * 200_000))

    good, bad = read(path)

    assert [r.external_id for r in good] == ["A-1", "A-3"]
    (record,) = bad
    assert record.reason == ("row 3: column 氏名 (name): the cell is larger than 131,072 characters; it was "
                             "not read")
    assert record.raw["_row"] == 3 and record.raw["応募ID"] == "A-2" and record.raw["氏名"] is None


# -- files that are not workbooks -------------------------------------------------------------------


def test_files_that_are_not_workbooks_are_one_clear_line(tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_text("メールアドレス,選考結果\r\na@example.jp,不採用\r\n", encoding="cp932")
    assert refusal(renamed) == ("is not an Excel workbook (it looks like text, e.g. a CSV renamed .xlsx); "
                                "save it as .xlsx or name a CSV .csv")

    protected = tmp_path / "protected.xlsx"
    protected.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert refusal(protected).startswith("is an old .xls or a password-protected workbook")

    good = workbook(tmp_path / "good.xlsx", {"応募者": [HEADER, row(1)]})
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert refusal(truncated) == "the workbook is damaged (BadZipFile); save it again from Excel"

    plain_zip = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert refusal(plain_zip) == "is a ZIP archive but not an Excel workbook (no xl/workbook.xml)"


def test_a_sheet_whose_data_is_corrupt_is_refused_in_one_line(tmp_path: Path) -> None:
    path = workbook(tmp_path / "corrupt.xlsx", {"応募者": [HEADER, *(row(i) for i in range(1, 50))]})
    rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"</sheetData>", b"<row><c>"))
    assert refusal(path) == "sheet '応募者' is damaged after row 50 (ParseError); save it again from Excel"


def test_a_workbook_with_flipped_bytes_is_refused_in_one_line(tmp_path: Path) -> None:
    path = workbook(tmp_path / "flipped.xlsx", {"応募者": [HEADER, *(row(i) for i in range(1, 2000))]})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    data[middle] ^= 0xFF
    data[middle + 1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert re.fullmatch(r"sheet '応募者' is damaged after row [\d,]+ \(\w+\); save it again from Excel",
                        refusal(path))
