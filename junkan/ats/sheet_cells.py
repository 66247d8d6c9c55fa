"""Reading a spreadsheet's contents, the same way for the applications export and the jobs sheet: the
header row found and mapped to the known columns, the rows below it, and each cell.

Japanese HR exports rarely agree on anything, so these are forgiving about form and strict about meaning:
dates may be Excel serials (45600), 2026/11/01, 2026-11-01, 2026年11月1日, 令和8年11月1日 or 20261101,
with an optional time. A value without a zone is in the business time zone the caller passes
(`JUNKAN_BUSINESS__TIMEZONE`); nothing here assumes one.

A header is compared with the known column names in NFKC, case-folded, without spaces, `_`, `-`, `・`,
`*`, `※`, `:` and bracketed notes, so 「メールアドレス（必須）」, "E-mail" and "email" are one name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from junkan.ats.base import SourceFileError, UnreadableRow
from junkan.ats.csv_reader import CsvRows

#: Status words (after NFKC and case-folding) -> ApplicationStatus. Anything else passes through raw.
STATUS_MAP: dict[str, str] = {
    **dict.fromkeys(("不採用", "お見送り", "見送り", "不合格", "rejected", "reject"), "rejected"),
    **dict.fromkeys(("採用", "内定", "内定承諾", "入社", "入社済", "hired", "hire", "offer accepted"),
                    "hired"),
    **dict.fromkeys(("辞退", "選考辞退", "内定辞退", "withdrawn", "withdrew", "declined"), "withdrawn"),
    **dict.fromkeys(("選考中", "書類選考中", "面接中", "in_process", "in process", "active"), "in_process"),
}
_TRUE = {"はい", "yes", "y", "1", "true", "t", "✓", "✔", "☑", "○", "〇", "◯", "有", "あり", "同意",
         "同意する", "同意済", "済", "on"}
_FALSE = {"いいえ", "no", "n", "0", "false", "f", "×", "✗", "✕", "無", "なし", "同意しない", "不同意",
          "未同意", "off", "-", "ー"}

_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
#: The first and last day of each era (None: still running). A date outside its era's span, or era
#: year 0, is a typo: 令和0年 would otherwise read as 2018, a year of 平成.
_ERA_SPANS: dict[int, tuple[date, date | None]] = {
    2018: (date(2019, 5, 1), None),
    1988: (date(1989, 1, 8), date(2019, 4, 30)),
    1925: (date(1926, 12, 25), date(1989, 1, 7)),
}
_DATE_RE = re.compile(
    r"^(?:(?P<era>令和|平成|昭和|[rhs])\s*(?P<eyear>\d{1,2}|元)|(?P<year>\d{4}))\s*[/\-.年]\s*"
    r"(?P<month>\d{1,2})\s*[/\-.月]\s*(?P<day>\d{1,2})\s*日?(?:\s*\(.\))?"
    r"(?:(?:\s+|t|(?<=\)))(?P<hour>\d{1,2})\s*[:時]\s*(?P<minute>\d{1,2})\s*分?"
    r"(?:\s*[:]?\s*(?P<second>\d{1,2})(?P<frac>\.\d{1,6})?\s*秒?)?)?"
    r"\s*(?P<tz>z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# In text, only a five-digit number is taken for a serial (1927..2173); "2026" alone is not a date.
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_MAX_SERIAL = 2_958_465  # 9999-12-31
_WS_RE = re.compile(r"\s+")


# Exports repeat the same job titles, statuses, reasons and dates on thousands of rows: small bounded
# caches keep a 100k-row import fast without holding the file.
@functools.lru_cache(maxsize=4096)
def norm(value: str) -> str:
    """NFKC with runs of white space made one space, trimmed."""
    return _WS_RE.sub(" ", unicodedata.normalize("NFKC", value)).strip()


@functools.lru_cache(maxsize=1024)
def map_status(value: str) -> str:
    key = norm(value).casefold()
    return STATUS_MAP.get(key, STATUS_MAP.get(key.replace(" ", ""), value.strip()))


def parse_consent(value: Any) -> bool | None:
    """True/False for a recorded answer, None for an empty cell; ValueError for anything ambiguous."""
    if value is None:
        return None
    if type(value) is not str:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if value in (0, 1):
                return bool(value)
            raise ValueError(str(value))
        value = str(value)
    text = norm(value).casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text[:20])


def excel_serial_to_datetime(serial: float) -> datetime:
    if not 1 <= serial <= _MAX_SERIAL:
        raise ValueError(f"Excel serial {serial} out of range")
    moment = _EXCEL_EPOCH + timedelta(days=serial)
    # Serials carry floating-point noise (0.999999 of a second); round to the second.
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def parse_date(value: Any, zone: tzinfo) -> datetime | None:
    """A spreadsheet date as an aware datetime (in `zone` when the value gives none).

    Raises ValueError when the value is present but unreadable.
    """
    if type(value) is str:
        return _parse_date_text(value, zone)
    return _parse_date(value, zone)


@functools.lru_cache(maxsize=8192)
def _parse_date_text(value: str, zone: tzinfo) -> datetime | None:
    return _parse_date(value, zone)


def _parse_date(value: Any, zone: tzinfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if isinstance(value, int | float):
        return excel_serial_to_datetime(float(value)).replace(tzinfo=zone)
    text = norm(str(value)).casefold()
    if not text:
        return None
    if _SERIAL_RE.match(text):
        return excel_serial_to_datetime(float(text)).replace(tzinfo=zone)
    if compact := _COMPACT_RE.match(text):
        return datetime(int(compact[1]), int(compact[2]), int(compact[3]), tzinfo=zone)
    match = _DATE_RE.match(text)
    if match is None:
        try:
            parsed = datetime.fromisoformat(text.upper())
        except ValueError:
            raise ValueError(text[:40]) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    era_base: int | None = None
    if match["era"]:
        era_base = _ERAS[match["era"]]
        era_year = 1 if match["eyear"] == "元" else int(match["eyear"])
        if era_year == 0:
            raise ValueError(text[:40])
        year = era_base + era_year
    else:
        year = int(match["year"])
    tz: tzinfo | None = zone
    if match["tz"]:
        tz_text = match["tz"].upper()
        tz = datetime.fromisoformat(f"2000-01-01T00:00:00{'+00:00' if tz_text == 'Z' else tz_text}").tzinfo
    moment = datetime(year, int(match["month"]), int(match["day"]), int(match["hour"] or 0),
                      int(match["minute"] or 0), int(match["second"] or 0),
                      round(float(match["frac"]) * 1_000_000) if match["frac"] else 0, tzinfo=tz)
    if era_base is not None:
        first, last = _ERA_SPANS[era_base]
        if moment.date() < first or (last is not None and moment.date() > last):
            raise ValueError(text[:40])
    return moment


def cell_text(value: Any) -> str | None:
    """A cell as trimmed text; Excel's ="000123" guard is unwrapped, whole floats lose their `.0`."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        if text[:2] == '="' and text[-1:] == '"':
            text = text[2:-1].strip()
        return text or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    return text or None


def cell_phone(value: Any, region: str) -> str | None:
    if type(value) is str:
        return cell_text(value)
    # Excel turns 090-… typed without hyphens into the number 9012345678, dropping the trunk zero.
    if isinstance(value, int | float) and not isinstance(value, bool) and region.upper() == "JP":
        digits = str(int(value))
        if len(digits) in (9, 10):
            return "0" + digits
        return digits
    return cell_text(value)


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


#: Rows naming no known column that may stand above the real header (a title, a date line …).
MAX_TITLE_ROWS = 5


def header_key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|〔.*?〕", "", text)
    return re.sub(r"[\s_\-・*※:]", "", text)


def map_headers(path: Path | str, headers: list[str], lookup: Mapping[str, str],
                header_map: Mapping[str, Sequence[str]], required: Sequence[str],
                sheet: str = "") -> tuple[dict[int, str], dict[str, str]]:
    """(`column index -> field`, `field -> header as written`) of a header row.

    Two columns meaning the same field, or a required field without a column, refuse the file: guessing
    which one to read would silently mix up people's data. `sheet` names the sheet in the message.
    """
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for i, header in enumerate(headers):
        field = lookup.get(header_key(header))
        if field is None:
            continue
        if field in seen:
            raise SourceFileError(path, f"columns {seen[field]!r} and {header!r} both mean {field}; keep one")
        seen[field] = header
        columns[i] = field
    missing = [f for f in required if f not in seen]
    if missing:
        wanted = "; ".join(f"{f}: {' / '.join(header_map[f][:3])}" for f in missing)
        where = f" in {sheet}" if sheet else ""
        raise SourceFileError(path, f"required column(s) missing{where} ({wanted})")
    return columns, seen


class HeaderSearch:
    """Finds the header row among the first rows of a sheet.

    Exports often start with a title line (「応募者一覧 2026年11月」): up to MAX_TITLE_ROWS rows that name
    no known column at all are skipped, and so are blank rows. The row after them is the header, known
    columns or not, so that a sheet of the wrong kind is refused by `map_headers` instead of read blind.
    """

    def __init__(self, path: Path | str, lookup: Mapping[str, str]) -> None:
        self._path = path
        self._lookup = lookup
        self._title_rows = 0

    def offer(self, index: int, cells: list[Any] | UnreadableRow) -> list[str] | None:
        """The header names if row `index` is the header row, None for a row to pass over."""
        if isinstance(cells, UnreadableRow):
            raise SourceFileError(self._path, f"row {index}, before the header row, cannot be read: "
                                              f"{cells.problem}")
        if all(cell_text(c) is None for c in cells):
            return None
        headers = [cell_text(c) or f"column{i + 1}" for i, c in enumerate(cells)]
        if self._title_rows < MAX_TITLE_ROWS and not any(header_key(h) in self._lookup for h in headers):
            self._title_rows += 1
            return None
        return headers


Cells = list[Any] | UnreadableRow
NumberedRows = Iterator[tuple[int, Cells]]


def rows_below_header(
    reader: Iterable[Cells],
    search: HeaderSearch,
    map_columns: Callable[[list[str]], dict[int, str]],
    row_shape: Callable[[dict[int, str]], Any],
) -> tuple[list[str], dict[int, str], NumberedRows] | None:
    """(header names, `column index -> field`, the rows below the header numbered as in the sheet), or
    None when no row is the header.

    `map_columns` may refuse the header. A CSV reader learns `row_shape(columns)` before it reads on, so it
    can tell a data row from a line of a multi-line cell.
    """
    rows = enumerate(reader, start=1)
    for index, cells in rows:
        headers = search.offer(index, cells)
        if headers is None:
            continue
        columns = map_columns(headers)
        if isinstance(reader, CsvRows):
            reader.row_shape = row_shape(columns)
        return headers, columns, rows
    return None


def raw_cells(headers: list[str], cells: Iterable[Any]) -> dict[str, Any]:
    """A row as kept in quarantine and `raw`: JSON-safe cells under their headers (`columnN` past them)."""
    return {headers[i] if i < len(headers) else f"column{i + 1}": json_safe(c) for i, c in enumerate(cells)}
