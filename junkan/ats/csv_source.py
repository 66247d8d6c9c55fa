"""Spreadsheet import: CSV (UTF-8 with or without BOM, or CP932/Shift_JIS), TSV, and XLSX.

Japanese HR exports rarely agree on anything, so this reader is forgiving about form and strict about
meaning:
- headers are matched through HEADER_MAP after NFKC, case-folding and dropping spaces, `_`, `-` and
  bracketed notes, so 「メールアドレス（必須）」, "E-mail" and "email" all find the e-mail column;
- dates may be Excel serials (45600), 2026/11/01, 2026-11-01, 2026年11月1日, 令和8年11月1日 or 20261101,
  with an optional time; a value without a zone is Asia/Tokyo;
- a row whose date, status or consent cannot be read becomes a BadRecord naming the row and column,
  and the rest of the file goes on.

The file is streamed (csv.reader / openpyxl read_only), never loaded whole, so 100k rows use little
memory. It is read once per ingest: `fetch_applications` learns the distinct jobs and reasons (the only
things kept) from the same rows it maps, and `fetch_jobs` / `fetch_rejection_reasons` answer from what
the last complete pass learned. Called first, they scan the file once themselves (without mapping
the rows to records) and share that scan. `reference_from_applications = True` tells ingest to
sync the reference data after the applications, so an ingest parses the file exactly once.

The file is a full snapshot, so `fetch_applications(since)` returns every row unless the file has an
updated_at column, in which case rows updated before `since` are skipped. Without an application id
column the external id is a hash of (normalised e-mail, job, applied date), so re-importing the same
file is idempotent.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from junkan.ats.base import ApplicationRecord, BadRecord, JobRecord, OpeningRecord, ReasonRecord
from junkan.ats.errors import AtsError
from junkan.ats.values import as_utc
from junkan.identity import normalize_email

TOKYO = ZoneInfo("Asia/Tokyo")

#: Canonical field -> accepted header names (English and Japanese). Matching ignores width, case,
#: spaces, `_`, `-`, `・` and bracketed notes such as （必須） or [任意].
HEADER_MAP: dict[str, tuple[str, ...]] = {
    "name": ("氏名", "名前", "お名前", "候補者名", "応募者名", "name", "full name", "candidate name"),
    "email": ("メールアドレス", "メール", "eメール", "eメールアドレス", "email", "e-mail", "email address",
              "mail"),
    "phone": ("電話番号", "電話", "携帯電話", "携帯電話番号", "携帯番号", "連絡先電話番号", "phone",
              "phone number", "tel", "mobile"),
    "applied_at": ("応募日", "応募日時", "エントリー日", "エントリー日時", "applied at", "applied date",
                   "application date", "applied"),
    "job": ("求人", "求人名", "求人タイトル", "職種", "募集職種", "応募職種", "ポジション", "job",
            "job title", "job name", "position"),
    "status": ("選考結果", "選考ステータス", "ステータス", "結果", "status", "result", "decision"),
    "reason": ("不採用理由", "お見送り理由", "見送り理由", "辞退理由", "理由", "rejection reason", "reason"),
    "decided_at": ("選考結果日", "選考結果日時", "結果通知日", "結果日", "決定日", "判定日", "decided at",
                   "decision date", "decided date"),
    "application_id": ("応募id", "応募番号", "応募no", "application id", "application no"),
    "candidate_id": ("候補者id", "応募者id", "候補者番号", "応募者番号", "candidate id"),
    "job_id": ("求人id", "求人番号", "求人コード", "job id", "job code", "requisition id"),
    "job_status": ("求人ステータス", "募集状況", "募集ステータス", "job status"),
    "stage": ("選考段階", "選考フェーズ", "最終選考段階", "選考ステップ", "stage", "stage reached"),
    "locale": ("言語", "使用言語", "希望言語", "locale", "language"),
    "updated_at": ("更新日時", "最終更新日", "最終更新日時", "updated at", "last updated"),
    "tags": ("タグ", "tags", "tag"),
    "talent_pool_consent": ("タレントプール同意", "タレントプール登録同意", "人材プール同意",
                            "talent pool consent", "talent pool"),
    "partner_info_consent": ("パートナー案内同意", "提携先案内同意", "パートナー情報提供同意",
                             "partner info consent", "partner consent"),
    "recontact_consent": ("再連絡同意", "再案内同意", "求人案内同意", "recontact consent",
                          "re-contact consent"),
}
REQUIRED_FIELDS = ("email", "status")
MAX_TITLE_ROWS = 5
CONSENT_FIELDS = {
    "talent_pool_consent": "talent_pool",
    "partner_info_consent": "partner_info",
    "recontact_consent": "recontact",
}
DATE_FIELDS = ("applied_at", "decided_at", "updated_at")

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
_LOCALES = {"ja": "ja", "日本語": "ja", "japanese": "ja", "jp": "ja", "ja-jp": "ja", "ja_jp": "ja",
            "en": "en", "英語": "en", "english": "en", "en-us": "en", "en-gb": "en", "en_us": "en"}
_JOB_STATUSES = {"open": "open", "募集中": "open", "公開": "open", "公開中": "open",
                 "closed": "closed", "募集終了": "closed", "終了": "closed", "クローズ": "closed",
                 "draft": "draft", "下書き": "draft", "非公開": "draft"}

_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
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


def _header_key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|〔.*?〕", "", text)
    return re.sub(r"[\s_\-・*※:]", "", text)


_HEADER_LOOKUP: dict[str, str] = {_header_key(alias): canonical
                                  for canonical, aliases in HEADER_MAP.items() for alias in aliases}


_WS_RE = re.compile(r"\s+")


# Exports repeat the same job titles, statuses, reasons and dates on thousands of rows: small bounded
# caches keep a 100k-row import fast without holding the file.
@functools.lru_cache(maxsize=4096)
def _norm(value: str) -> str:
    return _WS_RE.sub(" ", unicodedata.normalize("NFKC", value)).strip()


@functools.lru_cache(maxsize=1024)
def map_status(value: str) -> str:
    key = _norm(value).casefold()
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
    text = _norm(value).casefold()
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


def parse_date(value: Any) -> datetime | None:
    """A spreadsheet date as an aware datetime (Asia/Tokyo when no zone is given).

    Raises ValueError when the value is present but unreadable.
    """
    if type(value) is str:
        return _parse_date_text(value)
    return _parse_date(value)


@functools.lru_cache(maxsize=8192)
def _parse_date_text(value: str) -> datetime | None:
    return _parse_date(value)


def _parse_date(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TOKYO)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=TOKYO)
    if isinstance(value, int | float):
        return excel_serial_to_datetime(float(value)).replace(tzinfo=TOKYO)
    text = _norm(str(value)).casefold()
    if not text:
        return None
    if _SERIAL_RE.match(text):
        return excel_serial_to_datetime(float(text)).replace(tzinfo=TOKYO)
    if compact := _COMPACT_RE.match(text):
        return datetime(int(compact[1]), int(compact[2]), int(compact[3]), tzinfo=TOKYO)
    match = _DATE_RE.match(text)
    if match is None:
        try:
            parsed = datetime.fromisoformat(text.upper())
        except ValueError:
            raise ValueError(text[:40]) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=TOKYO)
    if match["era"]:
        year = _ERAS[match["era"]] + (1 if match["eyear"] == "元" else int(match["eyear"]))
    else:
        year = int(match["year"])
    tz = TOKYO
    if match["tz"]:
        tz_text = match["tz"].upper()
        tz = datetime.fromisoformat(f"2000-01-01T00:00:00{'+00:00' if tz_text == 'Z' else tz_text}").tzinfo
    return datetime(year, int(match["month"]), int(match["day"]), int(match["hour"] or 0),
                    int(match["minute"] or 0), int(match["second"] or 0),
                    round(float(match["frac"]) * 1_000_000) if match["frac"] else 0, tzinfo=tz)


def _text(value: Any) -> str | None:
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


def _phone(value: Any, region: str) -> str | None:
    if type(value) is str:
        return _text(value)
    # Excel turns 090-… typed without hyphens into the number 9012345678, dropping the trunk zero.
    if isinstance(value, int | float) and not isinstance(value, bool) and region.upper() == "JP":
        digits = str(int(value))
        if len(digits) in (9, 10):
            return "0" + digits
        return digits
    return _text(value)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def job_external_id(job_id: str | None, title: str | None) -> str | None:
    if job_id:
        return job_id
    if title:
        return "csv-job-" + _digest(_norm(title).casefold())[:16]
    return None


@functools.lru_cache(maxsize=4096)
def reason_external_id(text: str) -> str:
    normalized = _norm(text)
    return normalized if len(normalized) <= 64 else "csv-reason-" + _digest(normalized)[:16]


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def detect_encoding(path: Path) -> str:
    """utf-8-sig if the whole file decodes strictly as UTF-8 (BOM optional), else cp932; streamed."""
    for encoding in ("utf-8-sig", "cp932"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 16):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise AtsError(f"{path.name}: the file is neither UTF-8 nor CP932 (Shift_JIS); re-save it as UTF-8 CSV")


class CsvAdapter:
    def __init__(
        self,
        path: Path | str,
        *,
        source: str = "csv",
        phone_region: str = "JP",
        encoding: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = source
        self.phone_region = phone_region
        self._encoding = encoding
        self._sheet = sheet
        suffix = self.path.suffix.casefold()
        if suffix == ".xls":
            raise AtsError(f"{self.path.name}: the old .xls format is not supported; save it as .xlsx or CSV")
        self._kind = "xlsx" if suffix in (".xlsx", ".xlsm") else "csv"
        self._headers: dict[str, str] = {}
        self._date_fields: list[str] = []
        self._consent_fields: list[tuple[str, str]] = []
        self.stats: dict[str, int] = {"rows": 0, "bad_records": 0, "blank_rows": 0}
        # Reference data learned while reading rows; `_learned_complete` once a pass reached the end.
        self._jobs: dict[str, JobRecord] = {}
        self._reasons: dict[str, tuple[str, bool]] = {}
        self._seen_job_cells: set[tuple[Any, Any, Any]] = set()
        self._seen_reason_cells: set[tuple[Any, Any]] = set()
        self._learned_complete = False

    #: Jobs and reasons come from the application rows themselves, so ingest may sync them after the
    #: applications (from the same pass) instead of reading the file for them first.
    reference_from_applications = True

    # -- reading ------------------------------------------------------------------------------------

    def _raw_rows(self) -> Iterator[list[Any]]:
        if not self.path.exists():
            raise AtsError(f"import file not found: {self.path}")
        if self._kind == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows()

    def _csv_rows(self) -> Iterator[list[Any]]:
        if self._encoding is None:
            self._encoding = detect_encoding(self.path)  # a full decode of the file: once per adapter
        encoding = self._encoding
        with self.path.open("r", encoding=encoding, newline="") as handle:
            first_line = handle.readline()
            delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
            handle.seek(0)
            yield from csv.reader(handle, delimiter=delimiter)

    def _xlsx_rows(self) -> Iterator[list[Any]]:
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/... for a damaged file
            raise AtsError(
                f"{self.path.name}: cannot open as an Excel workbook ({type(exc).__name__})"
            ) from exc
        try:
            if self._sheet is not None:
                if self._sheet not in workbook.sheetnames:
                    raise AtsError(f"{self.path.name}: no sheet named {self._sheet!r}")
                sheet = workbook[self._sheet]
            else:
                sheet = workbook.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
        finally:
            workbook.close()

    def _rows(self, *, count: bool) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(spreadsheet row number, {canonical field: cell}, {original header: cell}) per data row.

        Every row also teaches the adapter its job and reason (see `_learn`); a pass that reaches the
        end of the file marks what was learned as complete. `count` updates `stats` (the applications
        pass), so a scan for reference data alone does not count rows twice.
        """
        columns: dict[int, str] | None = None
        headers: list[str] = []
        title_rows = 0
        wanted: list[tuple[str, int]] = []
        learn = self._learn
        plain_raw = False
        for index, cells in enumerate(self._raw_rows(), start=1):
            if columns is None:
                if all(_text(c) is None for c in cells):
                    continue
                headers = [_text(c) or f"column{i + 1}" for i, c in enumerate(cells)]
                # Exports often start with a title line (「応募者一覧 2026年11月」): skip a few rows that
                # name no known column at all before the real header.
                if title_rows < MAX_TITLE_ROWS and not any(_header_key(h) in _HEADER_LOOKUP for h in headers):
                    title_rows += 1
                    continue
                columns = self._map_headers(headers)
                wanted = [(field, i) for i, field in columns.items()]
                plain_raw = self._kind == "csv"  # CSV cells are already text (JSON-safe)
                self._start_learning()
                continue
            width = len(cells)
            # The first cell is the usual giveaway of a data row; only otherwise check them all.
            if (not width or _text(cells[0]) is None) and all(_text(c) is None for c in cells):
                if count:
                    self.stats["blank_rows"] += 1
                continue
            values = {field: cells[i] for field, i in wanted if i < width}
            learn(values)
            if plain_raw and width <= len(headers):
                raw: dict[str, Any] = dict(zip(headers, cells, strict=False))
            else:
                raw = {headers[i] if i < len(headers) else f"column{i + 1}": _json_safe(c)
                       for i, c in enumerate(cells)}
            raw["_row"] = index
            yield index, values, raw
        if columns is None:
            raise AtsError(f"{self.path.name}: the file has no header row")
        self._learned_complete = True

    # -- reference data learned from the rows ---------------------------------------------------

    def _start_learning(self) -> None:
        self._jobs = {}
        self._reasons = {}
        self._seen_job_cells = set()
        self._seen_reason_cells = set()
        self._learned_complete = False

    def _learn(self, values: dict[str, Any]) -> None:
        """Remember the row's job (first row of a job wins) and reason (a 辞退 reason when every row
        using it is a withdrawal). Exports repeat a few hundred jobs and reasons on every row, so the
        raw cells are checked against what was seen before anything is parsed."""
        get = values.get
        job_cells = (get("job_id"), get("job"), get("job_status"))
        if job_cells not in self._seen_job_cells:
            self._seen_job_cells.add(job_cells)
            title = _text(job_cells[1])
            job_id = job_external_id(_text(job_cells[0]), title)
            if job_id is not None and job_id not in self._jobs:
                status_text = _text(job_cells[2])
                status = _JOB_STATUSES.get(_norm(status_text).casefold(), "open") if status_text else "open"
                self._jobs[job_id] = JobRecord(external_id=job_id, title=_norm(title) if title else job_id,
                                               status=status)
        reason_cells = (get("reason"), get("status"))
        if reason_cells not in self._seen_reason_cells:
            self._seen_reason_cells.add(reason_cells)
            text = _text(reason_cells[0])
            status_text = _text(reason_cells[1])
            if text is None or status_text is None:
                return
            status = map_status(status_text)
            if status not in ("rejected", "withdrawn"):
                return
            rid = reason_external_id(text)
            name, all_withdrawn = self._reasons.get(rid, (_norm(text), True))
            self._reasons[rid] = (name, all_withdrawn and status == "withdrawn")

    def _ensure_learned(self) -> None:
        if not self._learned_complete:
            for _ in self._rows(count=False):
                pass

    def _map_headers(self, headers: list[str]) -> dict[int, str]:
        columns: dict[int, str] = {}
        seen: dict[str, str] = {}
        for i, header in enumerate(headers):
            canonical = _HEADER_LOOKUP.get(_header_key(header))
            if canonical is None:
                continue
            if canonical in seen:
                raise AtsError(f"{self.path.name}: columns {seen[canonical]!r} and {header!r} both mean "
                               f"{canonical}; keep one")
            seen[canonical] = header
            columns[i] = canonical
        missing = [f for f in REQUIRED_FIELDS if f not in seen]
        if missing:
            wanted = "; ".join(f"{f}: {' / '.join(HEADER_MAP[f][:3])}" for f in missing)
            raise AtsError(f"{self.path.name}: required column(s) missing ({wanted})")
        self._headers = seen
        self._date_fields = [f for f in DATE_FIELDS if f in seen]
        self._consent_fields = [(f, purpose) for f, purpose in CONSENT_FIELDS.items() if f in seen]
        return columns

    def _column(self, field: str) -> str:
        header = self._headers.get(field, field)
        return header if header == field else f"{header} ({field})"

    # -- mapping ------------------------------------------------------------------------------------

    def _record(self, row: int, values: dict[str, Any], raw: dict[str, Any]) -> ApplicationRecord | BadRecord:
        get = values.get
        application_id = _text(get("application_id"))
        status_text = _text(get("status"))
        if status_text is None:
            return BadRecord(reason=f"row {row}: column {self._column('status')} is empty", raw=raw,
                             external_id=application_id)
        dates: dict[str, datetime | None] = dict.fromkeys(DATE_FIELDS)
        for field in self._date_fields:  # only the columns the file has
            try:
                dates[field] = parse_date(get(field))
            except ValueError:
                shown = _text(get(field)) or ""
                return BadRecord(reason=f"row {row}: column {self._column(field)}: cannot read the date "
                                        f"{shown[:40]!r}", raw=raw, external_id=application_id)
        consents: dict[str, bool] = {}
        for field, purpose in self._consent_fields:
            try:
                answer = parse_consent(get(field))
            except ValueError:
                shown = _text(get(field)) or ""
                return BadRecord(reason=f"row {row}: column {self._column(field)}: cannot read the consent "
                                        f"answer {shown[:20]!r} (use はい/いいえ, yes/no, 1/0)",
                                 raw=raw, external_id=application_id)
            if answer is not None:
                consents[purpose] = answer

        status = map_status(status_text)
        email = _text(get("email"))
        job_title = _text(get("job"))
        job_id_text = _text(get("job_id"))
        job_id = job_external_id(job_id_text, job_title)
        applied_at = dates["applied_at"]
        if application_id is None:
            applied_day = applied_at.astimezone(TOKYO).date().isoformat() if applied_at else ""
            job_key = job_id_text or (_norm(job_title).casefold() if job_title else "")
            application_id = "csv-" + _digest(normalize_email(email) or "", job_key, applied_day)[:24]
        reason_text = _text(get("reason")) if status in ("rejected", "withdrawn") else None
        locale = _text(get("locale"))
        if locale is not None:
            locale = _LOCALES.get(_norm(locale).casefold(), _norm(locale).casefold())
        tags_text = _text(get("tags"))
        tags: tuple[str, ...] = ()
        if tags_text:
            tags = tuple(t.strip() for t in re.split(r"[,、;/]", _norm(tags_text)) if t.strip())
        return ApplicationRecord(
            external_id=application_id,
            status=status,
            email=email,
            name=_text(get("name")),
            phone=_phone(get("phone"), self.phone_region),
            candidate_external_id=_text(get("candidate_id")),
            locale=locale,
            job_external_id=job_id,
            job_title=_norm(job_title) if job_title else None,
            applied_at=applied_at,
            decided_at=dates["decided_at"],
            reason_external_id=reason_external_id(reason_text) if reason_text else None,
            reason_text=_norm(reason_text) if reason_text else None,
            stage=_text(get("stage")),
            updated_at=dates["updated_at"],
            consents=consents,
            tags=tags,
            raw=raw,
        )

    # -- protocol -----------------------------------------------------------------------------------

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        """Every row (see the module docstring for `since`); a naive `since` is UTC, as in the other
        adapters, while naive cells in the file are Asia/Tokyo."""
        since_utc = as_utc(since) if since is not None else None
        stats = self.stats
        for row, values, raw in self._rows(count=True):
            record = self._record(row, values, raw)
            if type(record) is BadRecord:
                stats["bad_records"] += 1
            elif since_utc is not None and record.updated_at is not None \
                    and record.updated_at < since_utc:  # type: ignore[union-attr]
                continue
            stats["rows"] += 1
            yield record

    def fetch_jobs(self) -> Iterator[JobRecord]:
        """The distinct jobs of the file, in order of first appearance (from the last complete pass)."""
        self._ensure_learned()
        yield from list(self._jobs.values())

    def fetch_openings(self) -> Iterator[OpeningRecord]:
        return iter(())

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]:
        """Reasons of rejected or withdrawn rows; a reason used only by withdrawals is a 辞退 reason."""
        self._ensure_learned()
        for rid, (name, all_withdrawn) in list(self._reasons.items()):
            yield ReasonRecord(external_id=rid, name=name, kind="withdrawn" if all_withdrawn else "rejected")

    def close(self) -> None:
        """Nothing stays open between calls: each pass opens and closes the file itself."""
