"""The jobs sheet (求人一覧) of a spreadsheet source, read from `JUNKAN_ATS__JOBS_PATH`.

One row per job: 求人ID and 求人名 are required; 状態, 募集開始日, 募集終了日, 必須スキル, 歓迎スキル, 勤務地,
部署 and 仕事内容 are read when present. It is read like the applications export: CSV (UTF-8 with or
without BOM, or CP932) or XLSX, the same file checks, the same header normalisation (and title rows
above the header are skipped), the same date reading. A row that cannot be read becomes a BadRecord
naming the row and the column, which ingest quarantines with record_type `job`; the other rows go on.
A 求人ID that differs from an earlier row's only by upper/lower case, or that holds an invisible
character, is such a row too. Ingest then refuses texts longer than their column, implausible dates and
a closing date before the opening date, for every adapter (`junkan.ingest.reference.job_problem`).

A spreadsheet has no openings: each open job is its own opening for the matcher (docs/pool.md), which is
why a match exported from a spreadsheet has an empty opening_id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from junkan.ats.base import BadRecord, JobRecord, SourceFileError, UnreadableRow
from junkan.ats.csv_reader import CsvRows, check_csv_file, detect_encoding
from junkan.ats.job_text import split_skills
from junkan.ats.sheet_cells import (
    MAX_TITLE_ROWS,
    HeaderSearch,
    cell_text,
    header_key,
    map_headers,
    norm,
    parse_date,
    raw_cells,
    rows_below_header,
)
from junkan.ats.xlsx_reader import WorkbookLimits, XlsxRows

#: Canonical field -> accepted header names; matched through `header_key`.
JOB_HEADER_MAP: dict[str, tuple[str, ...]] = {
    "job_id": ("求人ID", "求人番号", "求人コード", "job id", "job code", "requisition id"),
    "title": ("求人名", "求人タイトル", "募集職種", "職種", "ポジション", "job title", "job name", "title"),
    "status": ("状態", "募集状況", "募集ステータス", "求人ステータス", "ステータス", "status"),
    "opened_at": ("募集開始日", "公開日", "掲載開始日", "opened at", "open date"),
    "closed_at": ("募集終了日", "掲載終了日", "closed at", "close date"),
    "required_skills": ("必須スキル", "必須要件", "required skills"),
    "preferred_skills": ("歓迎スキル", "歓迎要件", "preferred skills", "nice to have"),
    "location": ("勤務地", "location"),
    "department": ("部署", "部門", "所属部署", "department"),
    "description": ("仕事内容", "業務内容", "求人内容", "description"),
}
REQUIRED_JOB_FIELDS = ("job_id", "title")
DATE_FIELDS = ("opened_at", "closed_at")
#: 状態 words (after NFKC and case-folding). An empty 状態 cell, or no 状態 column, means open.
JOB_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("募集中", "公開中", "公開", "open"), "open"),
    **dict.fromkeys(("募集終了", "終了", "停止", "募集停止", "クローズ", "closed"), "closed"),
    **dict.fromkeys(("下書き", "draft"), "draft"),
}
_LOOKUP: dict[str, str] = {header_key(a): field for field, aliases in JOB_HEADER_MAP.items() for a in aliases}


def _score(cells: list[str]) -> int:
    return sum(1 for cell in cells if header_key(cell) in _LOOKUP)


def _is_header(cells: list[Any]) -> bool:
    found = {_LOOKUP.get(header_key(text)) for c in cells if (text := cell_text(c)) is not None}
    return all(field in found for field in REQUIRED_JOB_FIELDS)


class JobsSheet:
    """Reads the jobs sheet afresh on every call of `records` (it is small: one row per job)."""

    def __init__(self, path: Path | str, *, zone: tzinfo, limits: WorkbookLimits,
                 encoding: str | None = None) -> None:
        self.path = Path(path)
        self._zone = zone
        self._limits = limits
        self._encoding = encoding
        suffix = self.path.suffix.casefold()
        if suffix == ".xls":
            raise SourceFileError(self.path, "the old .xls format is not supported; save it as .xlsx or CSV")
        self._kind = "xlsx" if suffix in (".xlsx", ".xlsm") else "csv"
        self._headers: dict[str, str] = {}

    def _raw_rows(self) -> Iterable[list[Any] | UnreadableRow]:
        if self._kind == "xlsx":
            return XlsxRows(self.path, sheet=None, limits=self._limits, is_header=_is_header,
                            header_rows=MAX_TITLE_ROWS + 1)
        check_csv_file(self.path)
        if self._encoding is None:
            self._encoding = detect_encoding(self.path)
        return CsvRows(self.path, self._encoding, header_score=_score, sniff_rows=MAX_TITLE_ROWS + 1)

    def records(self) -> Iterator[JobRecord | BadRecord]:
        found = rows_below_header(self._raw_rows(), HeaderSearch(self.path, _LOOKUP), self._map_headers,
                                  self._row_shape)
        if found is None:
            raise SourceFileError(self.path, f"the jobs sheet has no header row (expected "
                                             f"{JOB_HEADER_MAP['job_id'][0]}, {JOB_HEADER_MAP['title'][0]})")
        headers, columns, rows = found
        first_row: dict[str, tuple[str, int]] = {}
        for index, cells in rows:
            if isinstance(cells, UnreadableRow):
                yield self._unreadable(index, cells, headers)
                continue
            if all(cell_text(c) is None for c in cells):
                continue
            values = {field: cells[i] for i, field in columns.items() if i < len(cells)}
            raw = raw_cells(headers, cells)
            raw["_row"] = index
            record = self._record(index, values, raw)
            if isinstance(record, JobRecord):
                problem = self._id_problem(record.external_id, first_row, index)
                if problem is not None:
                    where = f"row {index}: column {self._column('job_id')}"
                    yield BadRecord(reason=f"{where}: {problem}", raw=raw, external_id=record.external_id)
                    continue
            yield record

    @staticmethod
    def _id_problem(job_id: str, first_row: dict[str, tuple[str, int]], row: int) -> str | None:
        """Why this 求人ID cannot be a job of its own, or None (then it is remembered as seen).

        Applications name their job by 求人ID as someone typed it. `J107` next to `j107`, or an id with a
        zero-width space pasted from a web page, would be two jobs that are really one, and the matcher
        would offer the same posting twice; the later row is quarantined instead of guessed at.
        """
        invisible = next((c for c in job_id if unicodedata.category(c) == "Cf"), None)
        if invisible is not None:
            return f"contains an invisible character (U+{ord(invisible):04X}); remove it"
        folded = job_id.casefold()
        if folded in first_row:
            first, first_index = first_row[folded]
            if first == job_id:
                return f"the same 求人ID as row {first_index}"
            return f"the same 求人ID as row {first_index} (they differ only in upper/lower case)"
        first_row[folded] = (job_id, row)
        return None

    def _map_headers(self, headers: list[str]) -> dict[int, str]:
        columns, seen = map_headers(self.path, headers, _LOOKUP, JOB_HEADER_MAP, REQUIRED_JOB_FIELDS,
                                    sheet="the jobs sheet")
        self._headers = seen
        return columns

    @staticmethod
    def _row_shape(columns: dict[int, str]) -> Any:
        """A line of a multi-line 仕事内容 cell rarely has both an id and a title where they belong."""
        index = {field: i for i, field in columns.items()}
        job_id, title = index["job_id"], index["title"]
        needed = max(job_id, title) + 1

        def looks_like_row(cells: list[str]) -> bool:
            return len(cells) >= needed and bool(cells[job_id].strip()) and bool(cells[title].strip())

        return looks_like_row

    def _column(self, field: str) -> str:
        header = self._headers.get(field, JOB_HEADER_MAP[field][0])
        return header if header == field else f"{header} ({field})"

    def _unreadable(self, row: int, problem: UnreadableRow, headers: list[str]) -> BadRecord:
        where = f"row {row}"
        if problem.column is not None:
            column = problem.column
            where += f": column {headers[column] if column < len(headers) else f'column{column + 1}'}"
        raw = raw_cells(headers, problem.cells)
        raw["_row"] = row
        return BadRecord(reason=f"{where}: {problem.problem}", raw=raw)

    def _record(self, row: int, values: dict[str, Any], raw: dict[str, Any]) -> JobRecord | BadRecord:
        get = values.get
        job_id = cell_text(get("job_id"))
        title = cell_text(get("title"))
        for field, value in (("job_id", job_id), ("title", title)):
            if value is None:
                return BadRecord(reason=f"row {row}: column {self._column(field)} is empty", raw=raw,
                                 external_id=job_id)
        assert job_id is not None and title is not None
        job_id = norm(job_id)
        status_text = cell_text(get("status"))
        status = "open"
        if status_text is not None:
            found = JOB_STATUS_WORDS.get(norm(status_text).casefold())
            if found is None:
                return BadRecord(reason=f"row {row}: column {self._column('status')}: unknown 状態 "
                                        f"{status_text[:20]!r} (use 募集中/公開中/open, "
                                        f"募集終了/停止/クローズ/closed or 下書き/draft)", raw=raw,
                                 external_id=job_id)
            status = found
        dates: dict[str, datetime | None] = dict.fromkeys(DATE_FIELDS)
        for field in DATE_FIELDS:
            try:
                dates[field] = parse_date(get(field), self._zone)
            except ValueError:
                shown = cell_text(get(field)) or ""
                return BadRecord(reason=f"row {row}: column {self._column(field)}: cannot read the date "
                                        f"{shown[:40]!r}", raw=raw, external_id=job_id)
        department = cell_text(get("department"))
        location = cell_text(get("location"))
        description = cell_text(get("description"))
        return JobRecord(
            external_id=job_id,
            title=norm(title),
            status=status,
            department=norm(department) if department else None,
            opened_at=dates["opened_at"],
            closed_at=dates["closed_at"],
            description=description,
            required_skills=split_skills(cell_text(get("required_skills"))),
            preferred_skills=split_skills(cell_text(get("preferred_skills"))),
            location=norm(location) if location else None,
        )
