"""An .xlsx export as rows of cell values, refused before loading when it is not safe to load.

A workbook is a ZIP of XML, and XML compresses a thousandfold: a 3 MB file can unpack to gigabytes, and
openpyxl (even read-only) keeps the shared strings and parses every sheet's size at load time. So the
archive is inspected with `zipfile` first, from its directory and the head of each sheet's XML, and
refused past the limits (`WorkbookLimits`) without anything being loaded. While reading, the same row and
column limits are enforced again, since a sheet's declared size may lie.

Which sheet: the one named by JUNKAN_ATS__SHEET; otherwise the only sheet, or among several the only one
whose first rows hold a header with the required columns. Anything else is refused with the sheet names.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from junkan.ats.base import (
    MAX_CELL_CHARS,
    OLE_MAGIC,
    ZIP_MAGIC,
    SourceFileError,
    UnreadableRow,
    check_source_file,
    read_head,
)
from junkan.config import AtsSettings

_HEAD_BYTES = 1 << 16  # a sheet's <dimension> comes before its data, within the first bytes
_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")
_ROW_RE = re.compile(rb"<(?:\w+:)?row[\s>/]")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Errors of a damaged archive or sheet, whether found by zipfile, zlib or the XML parser.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ElementTree.ParseError, KeyError, OSError)


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    max_uncompressed_mb: int
    max_rows: int
    max_columns: int

    @classmethod
    def of(cls, ats: AtsSettings) -> WorkbookLimits:
        """The limits the ATS settings set (`AtsSettings()`: their defaults)."""
        return cls(ats.max_uncompressed_mb, ats.max_rows, ats.max_columns)


@dataclass(frozen=True, slots=True)
class _Sheet:
    name: str
    member: str


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


class XlsxRows:
    """The rows of one sheet (each a list of values, or an UnreadableRow), after the safety checks.

    `is_header(cells)` says whether a row is a header with the required columns; it picks the sheet.
    """

    def __init__(self, path: Path, *, sheet: str | None, limits: WorkbookLimits,
                 is_header: Callable[[list[Any]], bool], header_rows: int) -> None:
        self.path = path
        self._sheet = sheet
        self._limits = limits
        self._is_header = is_header
        self._header_rows = header_rows
        self.sheet_name: str | None = None

    def _refuse(self, problem: str) -> SourceFileError:
        return SourceFileError(self.path, problem)

    # -- before loading -------------------------------------------------------------------------------

    def _inspect(self) -> list[_Sheet]:
        check_source_file(self.path)
        head = read_head(self.path)
        if head.startswith(OLE_MAGIC):
            raise self._refuse("is an old .xls or a password-protected workbook; save it as an unprotected "
                               ".xlsx or as CSV UTF-8")
        if not head.startswith(ZIP_MAGIC):
            kind = "it looks like text, e.g. a CSV renamed .xlsx" if _looks_like_text(head) \
                else "not a ZIP archive"
            raise self._refuse(f"is not an Excel workbook ({kind}); save it as .xlsx or name a CSV .csv")
        try:
            with zipfile.ZipFile(self.path) as archive:
                return self._inspect_archive(archive)
        except SourceFileError:
            raise
        except _DAMAGE as exc:
            raise self._refuse(f"the workbook is damaged ({type(exc).__name__}); save it again from "
                               f"Excel") from None

    def _inspect_archive(self, archive: zipfile.ZipFile) -> list[_Sheet]:
        limits = self._limits
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > limits.max_uncompressed_mb * 1_000_000:
            raise self._refuse(f"the workbook unpacks to {unpacked / 1_000_000:,.0f} MB, past the limit of "
                               f"{limits.max_uncompressed_mb:,} MB (JUNKAN_ATS__MAX_UNCOMPRESSED_MB)")
        sheets = self._sheets(archive)
        for sheet in sheets:
            rows, columns = self._declared_size(archive, sheet)
            if rows > limits.max_rows:
                raise self._refuse(f"sheet {sheet.name!r} has {rows:,} rows, past the limit of "
                                   f"{limits.max_rows:,} (JUNKAN_ATS__MAX_ROWS)")
            if columns > limits.max_columns:
                raise self._refuse(f"sheet {sheet.name!r} has {columns:,} columns, past the limit of "
                                   f"{limits.max_columns:,} (JUNKAN_ATS__MAX_COLUMNS)")
        return sheets

    def _sheets(self, archive: zipfile.ZipFile) -> list[_Sheet]:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise self._refuse("is a ZIP archive but not an Excel workbook (no xl/workbook.xml)")
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels_path = "xl/_rels/workbook.xml.rels"
        targets: dict[str, str] = {}
        if rels_path in names:
            for rel in ElementTree.fromstring(archive.read(rels_path)).iter(f"{{{_PKG_REL_NS}}}Relationship"):
                target = rel.get("Target", "")
                member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                targets[rel.get("Id", "")] = member
        sheets = []
        for element in workbook.iter():
            if element.tag.rsplit("}", 1)[-1] != "sheet":
                continue
            member = targets.get(element.get(f"{{{_REL_NS}}}id", ""), "")
            sheets.append(_Sheet(name=element.get("name", ""), member=member))
        if not sheets:
            raise self._refuse("the workbook has no sheets")
        return sheets

    def _declared_size(self, archive: zipfile.ZipFile, sheet: _Sheet) -> tuple[int, int]:
        """(rows, columns) from the sheet's <dimension>; without one, rows are counted by streaming."""
        if sheet.member not in archive.namelist():
            return 0, 0  # a chart sheet or a missing part; openpyxl reports it if it matters
        with archive.open(sheet.member) as stream:
            head = stream.read(_HEAD_BYTES)
            match = _DIMENSION_RE.search(head)
            if match and match[4]:
                return int(match[4]), _column_number(match[3])
            if match and match[2]:
                return int(match[2]), _column_number(match[1] or b"A")
            # No size given: count the rows in bounded memory (each chunk overlaps the last a little).
            rows = len(_ROW_RE.findall(head))
            tail = head[-16:]
            while chunk := stream.read(1 << 20):
                window = tail + chunk
                rows += len(_ROW_RE.findall(window)) - len(_ROW_RE.findall(tail))
                tail = window[-16:]
            return rows, 0

    # -- loading and reading --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[list[Any] | UnreadableRow]:
        import openpyxl

        sheets = self._inspect()
        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError/... for a damaged file
            raise self._refuse(f"cannot open as an Excel workbook ({type(exc).__name__})") from None
        try:
            worksheet = self._choose(workbook, [s.name for s in sheets])
            self.sheet_name = worksheet.title
            yield from self._read(worksheet)
        finally:
            workbook.close()

    def _choose(self, workbook: Any, names: list[str]) -> Any:
        listed = ", ".join(repr(n) for n in workbook.sheetnames)
        if self._sheet is not None:
            if self._sheet not in workbook.sheetnames:
                raise self._refuse(f"no sheet named {self._sheet!r} (JUNKAN_ATS__SHEET); the sheets are "
                                   f"{listed}")
            return workbook[self._sheet]
        if len(workbook.sheetnames) == 1:
            return workbook.worksheets[0]
        with_header = [ws for ws in workbook.worksheets if self._has_header(ws)]
        if len(with_header) == 1:
            return with_header[0]
        if with_header:
            found = ", ".join(repr(ws.title) for ws in with_header)
            raise self._refuse(f"several sheets have an application header ({found}); set JUNKAN_ATS__SHEET "
                               f"to the one to import")
        raise self._refuse(f"none of the sheets ({listed}) has a header row with the required columns; set "
                           f"JUNKAN_ATS__SHEET to the sheet to import")

    def _has_header(self, worksheet: Any) -> bool:
        try:
            rows = worksheet.iter_rows(max_row=self._header_rows, max_col=self._limits.max_columns,
                                       values_only=True)
            return any(self._is_header(list(row)) for row in rows)
        except _DAMAGE as exc:
            raise self._refuse(f"sheet {worksheet.title!r} is damaged ({type(exc).__name__})") from None

    def _read(self, worksheet: Any) -> Iterator[list[Any] | UnreadableRow]:
        limits = self._limits
        # The declared size was checked; read what is really there (openpyxl would stop at a declared
        # size that is too small, silently dropping rows, and pad every row to one that is too large).
        worksheet.reset_dimensions()
        number = 0
        try:
            for row in worksheet.iter_rows(values_only=True):
                number += 1
                if number > limits.max_rows:
                    raise self._refuse(f"sheet {worksheet.title!r} has more than {limits.max_rows:,} rows "
                                       f"(JUNKAN_ATS__MAX_ROWS)")
                cells = list(row)
                if len(cells) > limits.max_columns:
                    if any(c is not None for c in cells[limits.max_columns:]):
                        raise self._refuse(f"sheet {worksheet.title!r} row {number:,} has cells past column "
                                           f"{limits.max_columns:,} (JUNKAN_ATS__MAX_COLUMNS)")
                    del cells[limits.max_columns:]
                yield _check_cells(cells)
        except _DAMAGE as exc:
            raise self._refuse(f"sheet {worksheet.title!r} is damaged after row {number:,} "
                               f"({type(exc).__name__}); save it again from Excel") from None


def _check_cells(cells: list[Any]) -> list[Any] | UnreadableRow:
    for index, value in enumerate(cells):
        if type(value) is str and len(value) > MAX_CELL_CHARS:
            kept = [None if type(c) is str and len(c) > MAX_CELL_CHARS else c for c in cells]
            return UnreadableRow(problem=f"the cell is larger than {MAX_CELL_CHARS:,} characters; it was "
                                         f"not read", column=index, cells=kept)
    return cells


def _looks_like_text(head: bytes) -> bool:
    """No control bytes: text (UTF-8 or CP932 alike), where any binary format has some at its start."""
    return all(b >= 0x20 or b in b"\t\r\n" for b in head)
