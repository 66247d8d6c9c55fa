"""Spreadsheet import: encodings, XLSX, Japanese headers, full-width text, dates, bad rows, idempotent ids."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from junkan.ats.base import ApplicationRecord, AtsError, BadRecord
from junkan.ats.csv_source import HEADER_MAP, CsvAdapter, excel_serial_to_datetime, parse_date
from junkan.ats.factory import build_adapter
from junkan.config import AtsSettings
from junkan.demo.company import HEADERS as DEMO_EXPORT_HEADERS
from tests.ats_support import split_records

JST = ZoneInfo("Asia/Tokyo")
JA_HEADER = [
    "応募ID",
    "氏名",
    "メールアドレス",
    "電話番号",
    "応募日",
    "求人",
    "選考結果",
    "不採用理由",
    "選考結果日",
    "選考段階",
    "言語",
    "タレントプール同意",
    "パートナー案内同意",
    "再連絡同意",
]
JA_ROWS = [
    [
        "A-1",
        "山田　太郎",
        "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ",
        "０９０－１２３４－５６７８",
        "2026/11/01",
        "バックエンドエンジニア",
        "不採用",
        "スキル不一致",
        "2026年11月5日 14:30",
        "一次面接",
        "日本語",
        "はい",
        "いいえ",
        "○",
    ],
    [
        "A-2",
        "佐藤 花子",
        "hanako@example.jp",
        "",
        "2026-11-02",
        "バックエンドエンジニア",
        "お見送り",
        "他の候補者を採用",
        "45600",
        "書類選考",
        "en",
        "1",
        "0",
        "",
    ],
    [
        "A-3",
        "鈴木一郎",
        "ichiro@example.jp",
        "",
        "令和8年11月3日",
        "ｾｰﾙｽ",
        "辞退",
        "他社内定",
        "2026/11/06",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "A-4",
        "高橋 美咲",
        "misaki@example.jp",
        "",
        "2026年11月4日",
        "デザイナー",
        "採用",
        "",
        "2026/11/20 10:00",
        "最終面接",
        "",
        "true",
        "false",
        "×",
    ],
    ["A-5", "田中 健", "ken@example.jp", "", "20261105", "デザイナー", "選考中", "", "", "", "", "", "", ""],
    [
        "A-6",
        "伊藤 由美",
        "yumi@example.jp",
        "",
        "2026/11/06",
        "デザイナー",
        "保留",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
]


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str, delimiter: str = ","
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def records(adapter: CsvAdapter) -> list[ApplicationRecord | BadRecord]:
    return list(adapter.fetch_applications(None))


def good(adapter: CsvAdapter) -> dict[str, ApplicationRecord]:
    out = {}
    for record in records(adapter):
        assert isinstance(record, ApplicationRecord), record
        out[record.external_id] = record
    return out


# -- encodings and formats ----------------------------------------------------------------------------


def test_cp932_file_with_japanese_headers_and_full_width_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", JA_HEADER, JA_ROWS, "cp932")

    by_id = good(CsvAdapter(path))

    taro = by_id["A-1"]
    assert taro.status == "rejected"
    assert (
        taro.name == "山田　太郎" and taro.email == "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ"
    )  # ingest normalises identity
    assert taro.phone == "０９０－１２３４－５６７８"
    assert taro.applied_at == datetime(2026, 11, 1, tzinfo=JST)
    assert taro.decided_at == datetime(2026, 11, 5, 14, 30, tzinfo=JST)
    assert taro.reason_text == "スキル不一致" and taro.reason_external_id == "スキル不一致"
    assert taro.job_title == "バックエンドエンジニア" and taro.job_external_id.startswith("csv-job-")
    assert taro.stage == "一次面接" and taro.locale == "ja"
    assert taro.consents == {"talent_pool": True, "partner_info": False, "recontact": True}
    assert taro.raw["_row"] == 2 and taro.raw["氏名"] == "山田　太郎"
    hanako = by_id["A-2"]
    assert hanako.decided_at == datetime(2024, 11, 4, tzinfo=JST)  # Excel serial 45600 typed as text
    assert hanako.locale == "en" and hanako.consents == {"talent_pool": True, "partner_info": False}
    assert hanako.phone is None
    assert by_id["A-3"].status == "withdrawn" and by_id["A-3"].applied_at == datetime(2026, 11, 3, tzinfo=JST)
    assert by_id["A-3"].job_title == "セールス"  # half-width katakana made full-width by NFKC
    assert by_id["A-4"].status == "hired" and by_id["A-4"].reason_external_id is None
    assert by_id["A-4"].decided_at == datetime(2026, 11, 20, 10, 0, tzinfo=JST)
    assert by_id["A-5"].status == "in_process" and by_id["A-5"].applied_at == datetime(
        2026, 11, 5, tzinfo=JST
    )
    assert by_id["A-6"].status == "保留"  # unknown: passed raw so ingest quarantines it


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_every_accepted_encoding_gives_the_same_records(tmp_path: Path, encoding: str) -> None:
    reference = records(CsvAdapter(write_csv(tmp_path / "ref.csv", JA_HEADER, JA_ROWS, "utf-8-sig")))
    other = records(CsvAdapter(write_csv(tmp_path / f"{encoding}.csv", JA_HEADER, JA_ROWS, encoding)))
    assert other == reference
    if encoding == "utf-8-sig":
        assert (tmp_path / "utf-8-sig.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_tab_separated_export(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.txt", JA_HEADER, JA_ROWS, "utf-8", delimiter="\t")
    assert set(good(CsvAdapter(path))) == {"A-1", "A-2", "A-3", "A-4", "A-5", "A-6"}


def test_xlsx_with_date_cells_serials_and_numeric_cells(tmp_path: Path) -> None:
    # The demo company's export columns, less those this sheet leaves out; the rows follow their order.
    left_out = {"選考段階", "不採用理由", "パートナー案内同意", "再連絡同意", "スキル", "タグ"}
    header = [name for name in DEMO_EXPORT_HEADERS if name not in left_out]
    rows: list[list[object]] = [
        [
            1001,
            "山田 太郎",
            "taro@example.jp",
            9012345678,
            datetime(2026, 11, 1, 9, 30),
            "J-1",
            "営業",
            "不採用",
            45964,
            True,
        ],
        [
            1002.0,
            "佐藤 花子",
            "hanako@example.jp",
            "03-1234-5678",
            date(2026, 11, 2),
            "J-1",
            "営業",
            "内定",
            45965.75,
            0,
        ],
        [
            1003,
            "鈴木 一郎",
            "ichiro@example.jp",
            None,
            "２０２６／１１／０３",
            "J-2",
            "経理",
            "選考中",
            None,
            None,
        ],
    ]
    assert all(len(row) == len(header) for row in rows)  # the demo export gained or lost a column
    path = write_xlsx(tmp_path / "export.xlsx", header, rows)

    by_id = good(CsvAdapter(path))

    assert set(by_id) == {"1001", "1002", "1003"}
    taro = by_id["1001"]
    assert taro.applied_at == datetime(2026, 11, 1, 9, 30, tzinfo=JST)
    assert taro.decided_at == datetime(2025, 11, 3, tzinfo=JST)  # serial 45964 in a number cell
    assert taro.phone == "09012345678"  # Excel dropped the trunk zero of a number typed without hyphens
    assert taro.job_external_id == "J-1" and taro.consents == {"talent_pool": True}
    assert by_id["1002"].decided_at == datetime(2025, 11, 4, 18, 0, tzinfo=JST)
    assert by_id["1002"].applied_at == datetime(2026, 11, 2, tzinfo=JST)
    assert by_id["1002"].consents == {"talent_pool": False} and by_id["1002"].status == "hired"
    assert by_id["1003"].applied_at == datetime(2026, 11, 3, tzinfo=JST)  # full-width text date
    assert taro.raw["応募日"] == "2026-11-01T09:30:00"  # raw stays JSON-serialisable
    assert [j.external_id for j in CsvAdapter(path).fetch_jobs()] == ["J-1", "J-2"]


def test_xlsx_and_csv_of_the_same_export_give_the_same_ids(tmp_path: Path) -> None:
    header = ["氏名", "メールアドレス", "応募日", "求人", "選考結果"]
    csv_rows = [["山田 太郎", "Taro@Example.jp", "2026/11/01", "営業", "不採用"]]
    xlsx_rows: list[list[object]] = [
        ["山田 太郎", "taro@example.jp", datetime(2026, 11, 1), "営業", "不採用"]
    ]
    from_csv = records(CsvAdapter(write_csv(tmp_path / "a.csv", header, csv_rows, "cp932")))
    from_xlsx = records(CsvAdapter(write_xlsx(tmp_path / "a.xlsx", header, xlsx_rows)))
    assert from_csv[0].external_id == from_xlsx[0].external_id


# -- headers ------------------------------------------------------------------------------------------


def test_english_and_annotated_headers(tmp_path: Path) -> None:
    header = [
        "Name",
        "E-mail",
        "Phone Number",
        "Applied At",
        "Job Title",
        "Status",
        "Rejection Reason",
        "Decided_At",
        "Talent Pool Consent",
        "unrelated",
    ]
    row = [
        "Jane Doe",
        "jane@example.com",
        "+81 90 1111 2222",
        "2026-11-01 10:00",
        "Designer",
        "Rejected",
        "Position filled",
        "2026-11-03",
        "yes",
        "x",
    ]
    by = good(CsvAdapter(write_csv(tmp_path / "en.csv", header, [row], "utf-8")))
    (record,) = by.values()
    assert record.status == "rejected" and record.reason_text == "Position filled"
    assert record.applied_at == datetime(2026, 11, 1, 10, tzinfo=JST)
    assert record.consents == {"talent_pool": True} and record.raw["unrelated"] == "x"

    annotated = ["氏名（必須）", "メールアドレス【必須】", "選考結果 ※", "応募日"]
    by = good(
        CsvAdapter(
            write_csv(tmp_path / "ja.csv", annotated, [["山田", "y@example.jp", "不採用", ""]], "cp932")
        )
    )
    (record,) = by.values()
    assert record.name == "山田" and record.status == "rejected" and record.applied_at is None


def test_header_map_documents_japanese_and_english_names() -> None:
    for field, names in {
        "name": "氏名",
        "email": "メールアドレス",
        "phone": "電話番号",
        "applied_at": "応募日",
        "job": "求人",
        "status": "選考結果",
        "reason": "不採用理由",
        "decided_at": "選考結果日",
        "application_id": "応募id",
        "job_id": "求人id",
        "stage": "選考段階",
        "locale": "言語",
        "talent_pool_consent": "タレントプール同意",
        "partner_info_consent": "パートナー案内同意",
        "recontact_consent": "再連絡同意",
    }.items():
        assert names in HEADER_MAP[field]
        assert any(n.isascii() for n in HEADER_MAP[field])


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["応募者一覧（2026年11月）"])
    sheet.append([])
    sheet.append(["出力日", "2026/11/30"])
    sheet.append(["氏名", "メールアドレス", "選考結果"])
    sheet.append(["山田", "y@example.jp", "不採用"])
    workbook.save(path)
    (record,) = records(CsvAdapter(path))
    assert isinstance(record, ApplicationRecord) and record.raw["_row"] == 5 and record.status == "rejected"


def test_missing_required_column_and_duplicate_columns_are_clear_errors(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nostatus.csv", ["氏名", "メールアドレス"], [["a", "a@example.jp"]], "utf-8")
    with pytest.raises(AtsError, match=r"required column\(s\) missing \(status: 選考結果 / 選考ステータス"):
        records(CsvAdapter(path))
    path = write_csv(
        tmp_path / "dup.csv", ["メール", "メールアドレス", "選考結果"], [["a", "b", "不採用"]], "utf-8"
    )
    with pytest.raises(AtsError, match="columns 'メール' and 'メールアドレス' both mean email"):
        records(CsvAdapter(path))


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes("メールアドレス,選考結果\n".encode() + b"\xff\xfe\xfd\n")
    with pytest.raises(AtsError, match="neither UTF-8 nor CP932"):
        records(CsvAdapter(garbage))
    with pytest.raises(AtsError, match=r"old \.xls format is not supported"):
        CsvAdapter(tmp_path / "old.xls")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(AtsError, match="is not an Excel workbook"):
        records(CsvAdapter(broken))
    with pytest.raises(AtsError, match="import file not found"):
        records(CsvAdapter(tmp_path / "missing.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\r\n\r\n")
    with pytest.raises(AtsError, match="no header row"):
        records(CsvAdapter(empty))


# -- bad rows -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["2026/13/45", "令和0年11月1日"])  # 令和0年 used to read as 2018
def test_unparsable_date_is_a_bad_record_naming_row_and_column(tmp_path: Path, written: str) -> None:
    rows = [list(JA_ROWS[0]), list(JA_ROWS[1])]
    rows[1][4] = written
    path = write_csv(tmp_path / "bad.csv", JA_HEADER, rows, "cp932")

    result = records(CsvAdapter(path))

    assert isinstance(result[0], ApplicationRecord)
    bad = result[1]
    assert isinstance(bad, BadRecord)
    assert bad.reason == f"row 3: column 応募日 (applied_at): cannot read the date '{written}'"
    assert bad.external_id == "A-2" and bad.raw["_row"] == 3
    assert "hanako" not in bad.reason


def test_1000_rows_with_10_malformed_give_990_records_and_10_readable_reasons(tmp_path: Path) -> None:
    header = ["氏名", "メールアドレス", "応募日", "求人", "選考結果", "選考結果日", "再連絡同意"]
    rows = []
    start = date(2026, 1, 1)
    for i in range(1000):
        rows.append(
            [
                f"候補者{i}",
                f"user{i}@example.jp",
                (start + timedelta(days=i % 300)).strftime("%Y/%m/%d"),
                f"求人{i % 20}",
                "不採用" if i % 3 else "採用",
                "",
                "はい",
            ]
        )
    broken = {
        17: (2, "2026/02/30"),
        101: (5, "yesterday"),
        250: (4, ""),
        333: (6, "たぶん"),
        404: (2, "soon"),
        505: (4, "   "),
        606: (5, "2026-00-10"),
        707: (6, "maybe"),
        808: (2, "31/12/2026"),
        909: (5, "?"),
    }
    for index, (column, value) in broken.items():
        rows[index][column] = value
    path = write_csv(tmp_path / "thousand.csv", header, rows, "cp932")

    result = records(CsvAdapter(path))

    applications, bad = split_records(result)
    assert len(applications) == 990 and len(bad) == 10
    assert sorted(b.raw["_row"] for b in bad) == sorted(i + 2 for i in broken)
    reasons = {b.raw["_row"]: b.reason for b in bad}
    assert reasons[19] == "row 19: column 応募日 (applied_at): cannot read the date '2026/02/30'"
    assert reasons[252] == "row 252: column 選考結果 (status) is empty"
    assert reasons[335].startswith(
        "row 335: column 再連絡同意 (recontact_consent): cannot read the consent answer"
    )
    assert reasons[608] == "row 608: column 選考結果日 (decided_at): cannot read the date '2026-00-10'"
    assert len({r.external_id for r in applications}) == 990


# -- identity of rows, jobs and reasons --------------------------------------------------------------


def test_derived_ids_are_stable_across_reimports_and_email_spelling(tmp_path: Path) -> None:
    header = ["氏名", "メールアドレス", "応募日", "求人", "選考結果"]
    first = write_csv(
        tmp_path / "first.csv",
        header,
        [
            ["山田", "taro@example.jp", "2026/11/01", "営業", "不採用"],
            ["山田", "taro@example.jp", "2026/12/01", "営業", "選考中"],
            ["山田", "taro@example.jp", "2026/11/01", "経理", "選考中"],
        ],
        "cp932",
    )
    again = write_csv(
        tmp_path / "again.csv",
        header,
        [
            ["山田 太郎", " ＴＡＲＯ＠example.JP ", "2026-11-01 18:00", "営業", "選考中"],
        ],
        "utf-8",
    )

    ids = [r.external_id for r in records(CsvAdapter(first))]

    assert ids == [r.external_id for r in records(CsvAdapter(first))]
    assert len(set(ids)) == 3 and all(i.startswith("csv-") for i in ids)
    # Same person, job and day: the same application, whatever the spelling of the address.
    assert records(CsvAdapter(again))[0].external_id == ids[0]


def test_jobs_and_reasons_are_the_distinct_values(tmp_path: Path) -> None:
    header = ["氏名", "メールアドレス", "求人", "求人ステータス", "選考結果", "不採用理由"]
    rows = [
        ["a", "a@example.jp", "営業", "募集中", "不採用", "経験不足"],
        ["b", "b@example.jp", "営業", "募集中", "不採用", "経験不足"],
        ["c", "c@example.jp", "ｴﾝｼﾞﾆｱ", "募集終了", "辞退", "他社内定"],
        ["d", "d@example.jp", "エンジニア", "募集終了", "お見送り", "ポジション充足"],
        ["e", "e@example.jp", "", "", "採用", "無関係"],
    ]
    adapter = CsvAdapter(write_csv(tmp_path / "jobs.csv", header, rows, "cp932"))

    jobs = list(adapter.fetch_jobs())
    reasons = {r.name: r for r in adapter.fetch_rejection_reasons()}
    apps = records(adapter)

    assert [(j.title, j.status) for j in jobs] == [("営業", "open"), ("エンジニア", "closed")]
    assert apps[2].job_external_id == apps[3].job_external_id == jobs[1].external_id
    assert apps[4].job_external_id is None and apps[4].reason_external_id is None
    assert {name: r.kind for name, r in reasons.items()} == {
        "経験不足": "rejected",
        "他社内定": "withdrawn",
        "ポジション充足": "rejected",
    }
    assert apps[0].reason_external_id == reasons["経験不足"].external_id
    assert list(adapter.fetch_openings()) == []


def test_status_words_after_nfkc(tmp_path: Path) -> None:
    values = [
        "不採用",
        "お見送り",
        "ｒｅｊｅｃｔｅｄ",
        "採用",
        "内定",
        "HIRED",
        "辞退",
        "Withdrawn",
        "選考中",
        "in_process",
        "ｉｎ ｐｒｏｃｅｓｓ",
        "保留中",
    ]
    rows = [[f"u{i}@example.jp", v, f"2026/11/{i + 1:02d}"] for i, v in enumerate(values)]
    adapter = CsvAdapter(
        write_csv(tmp_path / "s.csv", ["メールアドレス", "選考結果", "応募日"], rows, "utf-8")
    )
    assert [r.status for r in records(adapter)] == [
        "rejected",
        "rejected",
        "rejected",
        "hired",
        "hired",
        "hired",
        "withdrawn",
        "withdrawn",
        "in_process",
        "in_process",
        "in_process",
        "保留中",
    ]


def test_since_filters_on_an_updated_at_column_only(tmp_path: Path) -> None:
    header = ["メールアドレス", "選考結果", "更新日時"]
    rows = [["a@example.jp", "不採用", "2026/11/01 09:00"], ["b@example.jp", "不採用", "2026/11/03 09:00"]]
    adapter = CsvAdapter(write_csv(tmp_path / "u.csv", header, rows, "utf-8"))
    since = datetime(2026, 11, 2, tzinfo=JST)
    assert [r.email for r in adapter.fetch_applications(since)] == ["b@example.jp"]
    plain = CsvAdapter(write_csv(tmp_path / "p.csv", header[:2], [r[:2] for r in rows], "utf-8"))
    assert len(list(plain.fetch_applications(since))) == 2


# -- dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/11/01", datetime(2026, 11, 1, tzinfo=JST)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=JST)),
        ("2026年11月1日", datetime(2026, 11, 1, tzinfo=JST)),
        ("２０２６年１１月１日　９時５分", datetime(2026, 11, 1, 9, 5, tzinfo=JST)),
        ("2026/11/1 9:05:30", datetime(2026, 11, 1, 9, 5, 30, tzinfo=JST)),
        ("2026/11/01(日) 10:00", datetime(2026, 11, 1, 10, tzinfo=JST)),
        ("2026.11.01", datetime(2026, 11, 1, tzinfo=JST)),
        ("令和8年11月1日", datetime(2026, 11, 1, tzinfo=JST)),
        ("平成元年1月8日", datetime(1989, 1, 8, tzinfo=JST)),
        ("45600", datetime(2024, 11, 4, tzinfo=JST)),
        ("45600.25", datetime(2024, 11, 4, 6, tzinfo=JST)),
        ("2026-11-01T10:30:00+00:00", datetime(2026, 11, 1, 19, 30, tzinfo=JST)),
        ("2026-11-01 10:30:00Z", datetime(2026, 11, 1, 19, 30, tzinfo=JST)),
        ("", None),
    ],
)
def test_date_formats(text: str, expected: datetime | None) -> None:
    assert parse_date(text, JST) == expected


@pytest.mark.parametrize(
    "text", ["2026/13/01", "2026/02/30", "2026", "next week", "01/11/2026", "2026/11/01 25:00"]
)
def test_unreadable_dates_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, JST)


def test_excel_serials() -> None:
    assert excel_serial_to_datetime(45600) == datetime(2024, 11, 4)
    assert excel_serial_to_datetime(61) == datetime(1900, 3, 1)
    assert excel_serial_to_datetime(45600.999999) == datetime(2024, 11, 5)  # float noise rounds to the second
    with pytest.raises(ValueError):
        excel_serial_to_datetime(0)


# -- scale and configuration --------------------------------------------------------------------------


_MEASURE_RSS = """
import resource, sys
from pathlib import Path
from junkan.ats.csv_source import CsvAdapter
adapter = CsvAdapter(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in adapter.fetch_applications(None))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, after - before)
"""


def test_a_100k_row_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["氏名", "メールアドレス", "応募日", "求人", "選考結果", "不採用理由"])
        for i in range(100_000):
            writer.writerow(
                [
                    f"応募者{i}",
                    f"user{i}@example.jp",
                    f"2026/{i % 12 + 1}/{i % 28 + 1}",
                    f"求人{i % 50}",
                    "不採用",
                    "スキル不一致",
                ]
            )

    # A fresh interpreter, so the peak RSS growth measures only the import itself.
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE_RSS, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    count, growth_kib = map(int, result.stdout.split())

    assert count == 100_000
    # Holding 100k parsed records would take hundreds of MB; streaming stays within a few MB.
    assert growth_kib < 30_000, f"peak RSS grew by {growth_kib} KiB"


def test_build_adapter_for_a_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", JA_HEADER, JA_ROWS, "cp932")
    adapter = build_adapter(AtsSettings(kind="csv", path=path, source_name="hr-sheet"))
    assert isinstance(adapter, CsvAdapter) and adapter.source == "hr-sheet"
    assert len(records(adapter)) == len(JA_ROWS)


def test_consent_answers(tmp_path: Path) -> None:
    answers = [
        "はい",
        "いいえ",
        "YES",
        "no",
        "1",
        "0",
        "TRUE",
        "false",
        "✓",
        "○",
        "×",
        "同意する",
        "同意しない",
        "",
    ]
    rows = [[f"u{i}@example.jp", "不採用", a] for i, a in enumerate(answers)]
    path = write_csv(tmp_path / "c.csv", ["メールアドレス", "選考結果", "パートナー案内同意"], rows, "utf-8")
    assert [r.consents.get("partner_info") for r in records(CsvAdapter(path))] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
        None,
    ]
