"""Faults of a CSV export: a huge cell, an unclosed quote, other delimiters, a bad byte, a path that is
not a file. One bad row is quarantined with its row and column; a bad file is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from junkan.ats.base import ApplicationRecord, BadRecord, SourceFileError
from junkan.ats.csv_source import CsvAdapter
from junkan.ats.factory import AtsConfigError, build_adapter
from junkan.config import AtsSettings
from tests.ats_support import split_records

HEADER = "応募ID,氏名,メールアドレス,選考結果,選考結果日"
ROWS = [f"A-{i},候補者{i},user{i}@example.jp,不採用,2026/11/05" for i in range(1, 5)]
BIG = 5 * 1024 * 1024  # a pasted 5 MB cell


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def read(path: Path, **kwargs: object) -> tuple[list[ApplicationRecord], list[BadRecord]]:
    return split_records(CsvAdapter(path, **kwargs).fetch_applications(None))  # type: ignore[arg-type]


def one_line(exc: pytest.ExceptionInfo[BaseException], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


# -- a cell past the size limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param("x" * BIG, id="unquoted-5MB"),
        pytest.param('"' + ("長い貼り付け\n" * (BIG // 7)) + '"', id="quoted-multiline-5MB"),
        pytest.param('"' + "y" * 200_000 + '"', id="quoted-200k"),
        pytest.param("z" * 200_000, id="unquoted-200k"),
    ],
)
def test_a_cell_past_the_limit_quarantines_its_row_and_the_rest_is_read(tmp_path: Path, cell: str) -> None:
    rows = list(ROWS)
    rows[1] = f"A-2,{cell},user2@example.jp,不採用,2026/11/05"
    path = write(tmp_path / "big.csv", [HEADER, *rows])

    good, bad = read(path)

    assert [r.external_id for r in good] == ["A-1", "A-3", "A-4"]
    assert [r.raw["_row"] for r in good] == [2, 4, 5]  # the row numbers below the big cell do not shift
    (record,) = bad
    assert record.reason.startswith("row 3")
    assert "column 氏名 (name): the cell is larger than 131,072 characters" in record.reason
    assert record.raw["_row"] == 3
    assert cell[1:20] not in record.reason and cell[1:20] not in str(record.raw)


_MEASURE_RSS = """
import resource, sys
from pathlib import Path
from junkan.ats.csv_source import CsvAdapter
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = list(CsvAdapter(Path(sys.argv[1]), encoding="utf-8").fetch_applications(None))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(result), type(result[0]).__name__, after - before)
"""


def test_a_64_mb_cell_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + "\r\n" + "A-1,")
        for _ in range(64):
            handle.write("x" * (1 << 20))
        handle.write(",a@example.jp,不採用,2026/11/05\r\n" + ROWS[1] + "\r\n")

    result = subprocess.run([sys.executable, "-c", _MEASURE_RSS, str(path)], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    count, first, growth_kib = result.stdout.split()

    assert (count, first) == ("2", "BadRecord")
    # Holding the cell (or the line) would take 64 MB as text and more as str objects.
    assert int(growth_kib) < 30_000, f"peak RSS grew by {growth_kib} KiB"


# -- an unclosed quote ------------------------------------------------------------------------------


@pytest.mark.parametrize("broken", [0, 1, 3])
def test_an_unclosed_quote_quarantines_its_row_and_the_following_rows_are_read(
    tmp_path: Path, broken: int
) -> None:
    rows = list(ROWS)
    rows[broken] = rows[broken].replace(",候補者", ',"候補者', 1)
    path = write(tmp_path / "quote.csv", [HEADER, *rows])

    good, bad = read(path)

    assert len(good) + len(bad) == 4  # rows in = rows read + rows quarantined
    assert sorted(r.external_id for r in good) == sorted(f"A-{i + 1}" for i in range(4) if i != broken)
    (record,) = bad
    row = broken + 2
    assert record.reason == (f'row {row}: column 氏名 (name): a quote (") opened in this cell is never '
                             f"closed (line {row}); fix the quote and import again")
    assert record.raw["_row"] == row and record.raw["応募ID"] == f"A-{broken + 1}"
    assert f"候補者{broken + 1}" not in record.reason


def test_a_multi_line_memo_cell_stays_one_row(tmp_path: Path) -> None:
    header = HEADER + ",メモ"
    lines = [
        header,
        f'{ROWS[0]},"一次面接: 良好\n二次面接は辞退, 理由は未回答\n備考, a@b, c"',
        f'{ROWS[1]},"引用 ""そのまま"" 残す"',
        ROWS[2],
    ]
    path = write(tmp_path / "memo.csv", lines)

    good, bad = read(path)

    assert bad == []
    assert [r.external_id for r in good] == ["A-1", "A-2", "A-3"]
    assert good[0].raw["メモ"] == "一次面接: 良好\n二次面接は辞退, 理由は未回答\n備考, a@b, c"
    assert good[1].raw["メモ"] == '引用 "そのまま" 残す'
    assert [r.raw["_row"] for r in good] == [2, 3, 4]  # one row per record, as Excel shows it


def test_an_unclosed_quote_in_a_multi_line_cell_names_its_lines(tmp_path: Path) -> None:
    lines = [HEADER + ",メモ", f'{ROWS[0]},"一行目\n二行目は閉じない', ROWS[1], ROWS[2]]
    path = write(tmp_path / "memo.csv", lines)

    good, bad = read(path)

    assert [r.external_id for r in good] == ["A-2", "A-3"]
    (record,) = bad
    assert record.reason.startswith("row 2 (lines 2-3): column メモ: a quote")
    assert record.raw["_lines"] == [2, 3]


# -- delimiters -------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, delimiter: str) -> None:
    lines = ["応募者一覧 2026年11月", *(line.replace(",", delimiter) for line in [HEADER, *ROWS])]
    good, bad = read(write(tmp_path / "export.csv", lines, "cp932"))
    assert bad == [] and [r.external_id for r in good] == ["A-1", "A-2", "A-3", "A-4"]
    assert good[0].decided_at == datetime(2026, 11, 5, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_file_without_a_header_says_what_it_found(tmp_path: Path) -> None:
    piped = write(tmp_path / "piped.csv", [line.replace(",", "|") for line in [HEADER, *ROWS]])
    with pytest.raises(SourceFileError) as exc:
        read(piped)
    message = one_line(exc, piped)
    assert "no header row: its first row has 1 column separated by ','" in message
    assert "it contains 4 '|'" in message and "comma-, tab- or semicolon-separated" in message

    headless = write(tmp_path / "headless.csv", ROWS)
    with pytest.raises(SourceFileError) as exc:
        read(headless)
    assert "its first row has 5 columns separated by ',' and none of the first rows names a known column" \
        in one_line(exc, headless)
    assert "user1" not in str(exc.value)


# -- encodings --------------------------------------------------------------------------------------


def test_an_invalid_byte_is_named_by_offset_and_line(tmp_path: Path) -> None:
    head = "\r\n".join([HEADER, ROWS[0], "A-2,候補者"]).encode("cp932")
    tail = ",user2@example.jp,不採用,2026/11/05\r\n".encode("cp932")
    path = tmp_path / "sjis.csv"
    path.write_bytes(head + b"\x81\x20" + tail)  # a lead byte without its trail byte

    with pytest.raises(SourceFileError) as exc:
        read(path)

    assert one_line(exc, path) == (
        f"{path}: the file is neither UTF-8 nor CP932 (Shift_JIS): byte 0x81 at byte offset {len(head):,} "
        f"(line 3) is not valid CP932 (Shift_JIS); re-save it as UTF-8 CSV"
    )


def test_an_invalid_byte_in_utf8_is_named_too(tmp_path: Path) -> None:
    head = "\r\n".join([HEADER, *ROWS[:3]]).encode() + b"\r\n"
    path = tmp_path / "utf8.csv"
    path.write_bytes(head + b"A-9,\xe5\x80,x@example.jp,\xe4\xb8\x8d,2026/11/05\r\n")
    with pytest.raises(SourceFileError, match=rf"byte 0xE5 at byte offset {len(head) + 4:,} \(line 5\) is "
                                              r"not valid UTF-8;"):
        read(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", r"is an Excel workbook \(a ZIP archive\), not CSV text; name it "
                                         r"\.xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "is an old .xls or a password-protected workbook"),
        ("メールアドレス\t選考結果\r\n".encode("utf-16"), r"is UTF-16 text \(Excel's 'Unicode Text'\)"),
    ],
)
def test_binary_files_under_a_csv_name_are_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match=problem):
        read(path)


# -- paths that are not a readable file -------------------------------------------------------------


def test_a_directory_missing_or_empty_file_is_one_clear_line(tmp_path: Path) -> None:
    directory = tmp_path / "exports.csv"
    directory.mkdir()
    with pytest.raises(SourceFileError) as exc:
        read(directory)
    assert one_line(exc, directory).endswith("is a directory, not a file; point JUNKAN_ATS__PATH at the "
                                             "export itself")

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceFileError) as exc:
        read(empty)
    assert one_line(exc, empty).endswith("the file is empty (0 bytes)")

    missing = tmp_path / "missing.xlsx"
    with pytest.raises(SourceFileError) as exc:
        read(missing)
    assert one_line(exc, missing).endswith("import file not found")


_READ_DEVICE = """
import sys
from junkan.ats.csv_source import CsvAdapter
try:
    list(CsvAdapter(sys.argv[1]).fetch_applications(None))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/zero.xlsx"])
def test_a_device_is_refused_instead_of_read_forever(tmp_path: Path, device: str) -> None:
    path = Path(device)
    if device.endswith(".xlsx"):  # the same device under a workbook's name
        path = tmp_path / "zero.xlsx"
        os.symlink("/dev/zero", path)
    # In a child process with a timeout: reading the device would never end.
    result = subprocess.run([sys.executable, "-c", _READ_DEVICE, str(path)], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == (f"SourceFileError {path}: is not a regular file (a device, pipe or "
                                     f"socket); only files are read")


# -- the business time zone -------------------------------------------------------------------------


def test_naive_dates_are_in_the_time_zone_passed_in(tmp_path: Path) -> None:
    path = write(tmp_path / "tz.csv", [HEADER, ROWS[0]])
    (record,), _ = read(path, timezone="America/New_York")
    assert record.decided_at == datetime(2026, 11, 5, tzinfo=ZoneInfo("America/New_York"))

    adapter = build_adapter(AtsSettings(kind="csv", path=path), timezone="Europe/Berlin")
    (built,) = list(adapter.fetch_applications(None))
    assert isinstance(built, ApplicationRecord)
    assert built.decided_at == datetime(2026, 11, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    with pytest.raises(AtsConfigError, match="JUNKAN_BUSINESS__TIMEZONE is not a known time zone: 'Asia/Tok"):
        build_adapter(AtsSettings(kind="csv", path=path), timezone="Asia/Tokio")

