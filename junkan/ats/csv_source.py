"""Spreadsheet import: CSV (UTF-8 with or without BOM, or CP932/Shift_JIS), TSV, and XLSX.

Japanese HR exports rarely agree on anything, so this reader is forgiving about form and strict about
meaning:
- headers are matched through HEADER_MAP after NFKC, case-folding and dropping spaces, `_`, `-` and
  bracketed notes, so 「メールアドレス（必須）」, "E-mail" and "email" all find the e-mail column;
- cells are read by `junkan.ats.sheet_cells`: dates may be Excel serials, 2026/11/01, 令和8年11月1日 …;
  a value without a zone is in the business time zone (`JUNKAN_BUSINESS__TIMEZONE`, passed in);
- a row whose date, status or consent cannot be read, or that the reader could not take apart (a cell
  past the size limit, an unclosed quote), becomes a BadRecord naming the row and column, and the rest
  of the file goes on; a file that cannot be read as a whole is refused with one SourceFileError.

The file is streamed (`junkan.ats.csv_reader` / `junkan.ats.xlsx_reader`, which also holds the checks
done before a workbook is loaded), never loaded whole, so 100k rows use little memory.
It is read once per ingest: `fetch_applications` learns the distinct jobs and reasons (the only
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

import functools
import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from junkan.ats.base import (
    ApplicationRecord,
    BadRecord,
    JobRecord,
    OpeningRecord,
    ReasonRecord,
    SourceFileError,
    UnreadableRow,
)
from junkan.ats.csv_reader import CsvRows, check_csv_file, detect_encoding
from junkan.ats.job_text import split_skills
from junkan.ats.jobs_sheet import JobsSheet
from junkan.ats.sheet_cells import (
    MAX_TITLE_ROWS,
    HeaderSearch,
    cell_phone,
    cell_text,
    excel_serial_to_datetime,
    header_key,
    map_headers,
    map_status,
    norm,
    parse_consent,
    parse_date,
    raw_cells,
    rows_below_header,
)
from junkan.ats.values import as_utc
from junkan.ats.xlsx_reader import WorkbookLimits, XlsxRows
from junkan.config import DEFAULT_BUSINESS_TIMEZONE, AtsSettings
from junkan.identity import normalize_email

__all__ = ["HEADER_MAP", "CsvAdapter", "detect_encoding", "excel_serial_to_datetime", "parse_consent",
           "parse_date"]

#: Used when the caller passes none: the defaults of the settings, so there is one place for each.
DEFAULT_TIMEZONE: str = DEFAULT_BUSINESS_TIMEZONE
DEFAULT_LIMITS = WorkbookLimits.of(AtsSettings())

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
    "skills": ("スキル", "保有スキル", "skills", "skill"),
    "desired_location": ("勤務希望地", "希望勤務地", "desired location", "preferred location"),
    "residence": ("居住地", "居住都道府県", "location"),
    "talent_pool_consent": ("タレントプール同意", "タレントプール登録同意", "人材プール同意",
                            "talent pool consent", "talent pool"),
    "partner_info_consent": ("パートナー案内同意", "提携先案内同意", "パートナー情報提供同意",
                             "partner info consent", "partner consent"),
    "recontact_consent": ("再連絡同意", "再案内同意", "求人案内同意", "recontact consent",
                          "re-contact consent"),
}
REQUIRED_FIELDS = ("email", "status")
CONSENT_FIELDS = {
    "talent_pool_consent": "talent_pool",
    "partner_info_consent": "partner_info",
    "recontact_consent": "recontact",
}
DATE_FIELDS = ("applied_at", "decided_at", "updated_at")

_LOCALES = {"ja": "ja", "日本語": "ja", "japanese": "ja", "jp": "ja", "ja-jp": "ja", "ja_jp": "ja",
            "en": "en", "英語": "en", "english": "en", "en-us": "en", "en-gb": "en", "en_us": "en"}
_JOB_STATUSES = {"open": "open", "募集中": "open", "公開": "open", "公開中": "open",
                 "closed": "closed", "募集終了": "closed", "終了": "closed", "クローズ": "closed",
                 "draft": "draft", "下書き": "draft", "非公開": "draft"}


_header_key = header_key


_HEADER_LOOKUP: dict[str, str] = {_header_key(alias): canonical
                                  for canonical, aliases in HEADER_MAP.items() for alias in aliases}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def job_external_id(job_id: str | None, title: str | None) -> str | None:
    if job_id:
        return job_id
    if title:
        return "csv-job-" + _digest(norm(title).casefold())[:16]
    return None


@functools.lru_cache(maxsize=4096)
def reason_external_id(text: str) -> str:
    normalized = norm(text)
    return normalized if len(normalized) <= 64 else "csv-reason-" + _digest(normalized)[:16]


class CsvAdapter:
    def __init__(
        self,
        path: Path | str,
        *,
        source: str = "csv",
        phone_region: str = "JP",
        encoding: str | None = None,
        sheet: str | None = None,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        limits: WorkbookLimits = DEFAULT_LIMITS,
        jobs_path: Path | str | None = None,
    ) -> None:
        """`jobs_path` is the jobs sheet (求人一覧, junkan.ats.jobs_sheet), if the company keeps one."""
        self.path = Path(path)
        self.source = source
        self.phone_region = phone_region
        self._encoding = encoding
        self._sheet = sheet
        self._zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._limits = limits
        self._jobs_sheet = JobsSheet(jobs_path, zone=self._zone, limits=limits) if jobs_path else None
        self._sheet_jobs: list[JobRecord | BadRecord] | None = None
        suffix = self.path.suffix.casefold()
        if suffix == ".xls":
            raise SourceFileError(self.path, "the old .xls format is not supported; save it as .xlsx or CSV")
        self._kind = "xlsx" if suffix in (".xlsx", ".xlsm") else "csv"
        self._reader: CsvRows | XlsxRows | None = None
        self._headers: dict[str, str] = {}
        self._header_row: list[str] = []
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

    def _raw_rows(self) -> Iterable[list[Any] | UnreadableRow]:
        """A fresh reader per pass; every check of the file (exists, regular, format, size) runs first."""
        reader: CsvRows | XlsxRows
        if self._kind == "xlsx":
            reader = XlsxRows(self.path, sheet=self._sheet, limits=self._limits, is_header=_is_header,
                              header_rows=MAX_TITLE_ROWS + 1)
        else:
            check_csv_file(self.path)
            if self._encoding is None:
                self._encoding = detect_encoding(self.path)  # a full decode of the file: once per adapter
            reader = CsvRows(self.path, self._encoding, header_score=_header_score,
                             sniff_rows=MAX_TITLE_ROWS + 1)
        self._reader = reader
        return reader

    def _rows(self, *, count: bool) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]] | BadRecord]:
        """(spreadsheet row number, {canonical field: cell}, {original header: cell}) per data row, or a
        BadRecord for a row the reader could not take apart.

        Every row also teaches the adapter its job and reason (see `_learn`); a pass that reaches the
        end of the file marks what was learned as complete. `count` updates `stats` (the applications
        pass), so a scan for reference data alone does not count rows twice.
        """
        reader = self._raw_rows()
        found = rows_below_header(reader, HeaderSearch(self.path, _HEADER_LOOKUP), self._map_headers,
                                  self._row_shape)
        if found is None:
            start = reader.describe_start() if isinstance(reader, CsvRows) else "none of the first rows " \
                "names a known column"
            raise SourceFileError(self.path, f"the file has no header row: {start} (expected e.g. "
                                             f"{HEADER_MAP['email'][0]}, {HEADER_MAP['status'][0]})")
        headers, columns, rows = found
        self._header_row = headers
        wanted = [(field, i) for i, field in columns.items()]
        learn = self._learn
        plain_raw = self._kind == "csv"  # CSV cells are already text (JSON-safe)
        self._start_learning()
        for index, cells in rows:
            if isinstance(cells, UnreadableRow):
                yield self._unreadable(index, cells)
                continue
            width = len(cells)
            # The first cell is the usual giveaway of a data row; only otherwise check them all.
            if (not width or cell_text(cells[0]) is None) and all(cell_text(c) is None for c in cells):
                if count:
                    self.stats["blank_rows"] += 1
                continue
            values = {field: cells[i] for field, i in wanted if i < width}
            learn(values)
            if plain_raw and width <= len(headers):
                raw: dict[str, Any] = dict(zip(headers, cells, strict=False))
            else:
                raw = raw_cells(headers, cells)
            raw["_row"] = index
            yield index, values, raw
        self._learned_complete = True

    def _unreadable(self, row: int, problem: UnreadableRow) -> BadRecord:
        """A BadRecord naming the row, its lines and the column; never a cell's content in the reason."""
        headers = self._header_row
        where = f"row {row}"
        if problem.lines and problem.lines[0] != problem.lines[1]:
            where += f" (lines {problem.lines[0]}-{problem.lines[1]})"
        if problem.column is not None:
            column = problem.column
            header = headers[column] if column < len(headers) else f"column{column + 1}"
            field = _HEADER_LOOKUP.get(_header_key(header))
            where += f": column {header}" + (f" ({field})" if field and field != header else "")
        raw = raw_cells(headers, problem.cells)
        raw["_row"] = row
        if problem.lines:
            raw["_lines"] = list(problem.lines)
        return BadRecord(reason=f"{where}: {problem.problem}", raw=raw)

    def _row_shape(self, columns: dict[int, str]) -> Any:
        """Whether cells read from one line look like a data row: wide enough for the required columns,
        an `@` in the e-mail cell and a status. A line of a memo cell almost never does."""
        index = {field: i for i, field in columns.items()}
        email, status = index["email"], index["status"]
        needed = max(email, status) + 1

        def looks_like_row(cells: list[str]) -> bool:
            return len(cells) >= needed and "@" in cells[email] and bool(cells[status].strip())

        return looks_like_row
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
            title = cell_text(job_cells[1])
            job_id = job_external_id(cell_text(job_cells[0]), title)
            if job_id is not None and job_id not in self._jobs:
                status_text = cell_text(job_cells[2])
                status = _JOB_STATUSES.get(norm(status_text).casefold(), "open") if status_text else "open"
                self._jobs[job_id] = JobRecord(external_id=job_id, title=norm(title) if title else job_id,
                                               status=status)
        reason_cells = (get("reason"), get("status"))
        if reason_cells not in self._seen_reason_cells:
            self._seen_reason_cells.add(reason_cells)
            text = cell_text(reason_cells[0])
            status_text = cell_text(reason_cells[1])
            if text is None or status_text is None:
                return
            status = map_status(status_text)
            if status not in ("rejected", "withdrawn"):
                return
            rid = reason_external_id(text)
            name, all_withdrawn = self._reasons.get(rid, (norm(text), True))
            self._reasons[rid] = (name, all_withdrawn and status == "withdrawn")

    def _ensure_learned(self) -> None:
        if not self._learned_complete:
            for _ in self._rows(count=False):
                pass

    def _map_headers(self, headers: list[str]) -> dict[int, str]:
        columns, seen = map_headers(self.path, headers, _HEADER_LOOKUP, HEADER_MAP, REQUIRED_FIELDS)
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
        application_id = cell_text(get("application_id"))
        status_text = cell_text(get("status"))
        if status_text is None:
            return BadRecord(reason=f"row {row}: column {self._column('status')} is empty", raw=raw,
                             external_id=application_id)
        zone = self._zone
        dates: dict[str, datetime | None] = dict.fromkeys(DATE_FIELDS)
        for field in self._date_fields:  # only the columns the file has
            try:
                dates[field] = parse_date(get(field), zone)
            except ValueError:
                shown = cell_text(get(field)) or ""
                return BadRecord(reason=f"row {row}: column {self._column(field)}: cannot read the date "
                                        f"{shown[:40]!r}", raw=raw, external_id=application_id)
        consents: dict[str, bool] = {}
        for field, purpose in self._consent_fields:
            try:
                answer = parse_consent(get(field))
            except ValueError:
                shown = cell_text(get(field)) or ""
                return BadRecord(reason=f"row {row}: column {self._column(field)}: cannot read the consent "
                                        f"answer {shown[:20]!r} (use はい/いいえ, yes/no, 1/0)",
                                 raw=raw, external_id=application_id)
            if answer is not None:
                consents[purpose] = answer

        status = map_status(status_text)
        email = cell_text(get("email"))
        job_title = cell_text(get("job"))
        job_id_text = cell_text(get("job_id"))
        job_id = job_external_id(job_id_text, job_title)
        applied_at = dates["applied_at"]
        if application_id is None:
            applied_day = applied_at.astimezone(zone).date().isoformat() if applied_at else ""
            job_key = job_id_text or (norm(job_title).casefold() if job_title else "")
            application_id = "csv-" + _digest(normalize_email(email) or "", job_key, applied_day)[:24]
        reason_text = cell_text(get("reason")) if status in ("rejected", "withdrawn") else None
        locale = cell_text(get("locale"))
        if locale is not None:
            locale = _LOCALES.get(norm(locale).casefold(), norm(locale).casefold())
        tags = split_skills(cell_text(get("tags")))
        # Where they want to work says more to the matcher than where they live; either is a location.
        location = cell_text(get("desired_location")) or cell_text(get("residence"))
        return ApplicationRecord(
            external_id=application_id,
            status=status,
            email=email,
            name=cell_text(get("name")),
            phone=cell_phone(get("phone"), self.phone_region),
            candidate_external_id=cell_text(get("candidate_id")),
            locale=locale,
            job_external_id=job_id,
            job_title=norm(job_title) if job_title else None,
            applied_at=applied_at,
            decided_at=dates["decided_at"],
            reason_external_id=reason_external_id(reason_text) if reason_text else None,
            reason_text=norm(reason_text) if reason_text else None,
            stage=cell_text(get("stage")),
            updated_at=dates["updated_at"],
            consents=consents,
            tags=tags,
            skills=split_skills(cell_text(get("skills"))),
            location=norm(location) if location else None,
            raw=raw,
        )

    # -- protocol -----------------------------------------------------------------------------------

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        """Every row (see the module docstring for `since`); a naive `since` is UTC, as in the other
        adapters, while naive cells in the file are in the adapter's time zone."""
        since_utc = as_utc(since) if since is not None else None
        stats = self.stats
        # The jobs sheet is read first (it is small), so a broken one is refused before any row is stored.
        self._read_jobs_sheet()
        for item in self._rows(count=True):
            record = item if isinstance(item, BadRecord) else self._record(*item)
            if isinstance(record, BadRecord):
                stats["bad_records"] += 1
            elif since_utc is not None and record.updated_at is not None \
                    and record.updated_at < since_utc:
                continue
            stats["rows"] += 1
            yield record

    def fetch_jobs(self) -> Iterator[JobRecord | BadRecord]:
        """The jobs sheet's rows (a BadRecord per unreadable one), then the jobs the applications name
        that the sheet does not list, in order of first appearance (from the last complete pass)."""
        self._ensure_learned()
        listed: set[str] = set()
        for record in self._read_jobs_sheet():
            if record.external_id:
                listed.add(record.external_id)  # a broken row must not be replaced by a bare title either
            yield record
        yield from [job for job_id, job in list(self._jobs.items()) if job_id not in listed]

    def _read_jobs_sheet(self) -> list[JobRecord | BadRecord]:
        if self._sheet_jobs is None:
            self._sheet_jobs = list(self._jobs_sheet.records()) if self._jobs_sheet is not None else []
        return self._sheet_jobs

    def fetch_openings(self) -> Iterator[OpeningRecord]:
        """None: a spreadsheet's open job is its own opening for the matcher (junkan.ats.jobs_sheet)."""
        return iter(())

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]:
        """Reasons of rejected or withdrawn rows; a reason used only by withdrawals is a 辞退 reason."""
        self._ensure_learned()
        for rid, (name, all_withdrawn) in list(self._reasons.items()):
            yield ReasonRecord(external_id=rid, name=name, kind="withdrawn" if all_withdrawn else "rejected")

    def close(self) -> None:
        """Nothing stays open between calls: each pass opens and closes the file itself."""


def _header_score(cells: list[str]) -> int:
    """How many cells of a row are known column names (the CSV reader picks its delimiter by it)."""
    return sum(1 for cell in cells if _header_key(cell) in _HEADER_LOOKUP)


def _is_header(cells: list[Any]) -> bool:
    """Whether a row is a header naming every required column (a workbook's sheet is picked by it)."""
    found = {_HEADER_LOOKUP.get(_header_key(text)) for c in cells if (text := cell_text(c)) is not None}
    return all(field in found for field in REQUIRED_FIELDS)
