"""A CSV/TSV export as rows of text cells, in bounded memory, where one bad row never costs the others.

`csv.reader` alone fails the whole file on a cell past its field limit, and an unbalanced quote makes it
swallow every following row into one cell without a word. So the file is cut into records here first:
physical lines are read in bounded pieces and joined while a quote is open (quote-count parity, as RFC
4180 has it), and only then is each record handed to `csv`. That allows three things:

- a record past MAX_RECORD_CHARS is not kept: the rest is skipped to its end and the row is reported as
  unreadable (naming the column whose cell is too large), never held whole in memory;
- a cell past MAX_CELL_CHARS is reported the same way, whatever `csv.field_size_limit` is set to;
- while a quote is open, a following line that on its own has the shape of a data row (see `row_shape`)
  ends the broken record: that record is reported as an unclosed quote and the next rows are read as
  rows again. A legitimate multi-line cell (a memo with line breaks) has no such line and stays whole.

Records are numbered one per row as Excel shows them, so a two-line memo cell does not shift the row
numbers of the rows below it; an unreadable row also names its physical lines.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from junkan.ats.base import (
    MAX_CELL_CHARS,
    OLE_MAGIC,
    UTF16_BOMS,
    ZIP_MAGIC,
    SourceFileError,
    UnreadableRow,
    check_source_file,
    read_head,
)

#: Lines are read at most this many characters at a time.
PIECE_CHARS = 1 << 16
#: The most of one record held in memory; the rest of a longer record is skipped (and the row reported).
MAX_RECORD_CHARS = 8 * MAX_CELL_CHARS
#: Delimiters read, in order of preference on a tie. Continental Excel writes `;` for "CSV".
DELIMITERS = (",", "\t", ";")
#: Separators that are recognised only to say so when a file has no readable header.
_OTHER_SEPARATORS = ("|", ":")
_ENCODING_LABELS = {"utf-8-sig": "UTF-8", "cp932": "CP932 (Shift_JIS)"}


def _separator_name(separator: str) -> str:
    return "tab" if separator == "\t" else repr(separator)


def detect_encoding(path: Path) -> str:
    """utf-8-sig if the whole file decodes strictly as UTF-8 (BOM optional), else cp932; streamed.

    When neither decodes, the refusal names the first undecodable byte of the likelier encoding (the one
    that read further), by byte offset and line, so the operator can find it in an editor.
    """
    failures: list[tuple[int, int, int, str]] = []
    for encoding in ("utf-8-sig", "cp932"):
        failure = _first_undecodable(path, encoding)
        if failure is None:
            return encoding
        failures.append((*failure, encoding))
    offset, line, byte, encoding = max(failures)
    label = _ENCODING_LABELS[encoding]
    raise SourceFileError(path, f"the file is neither UTF-8 nor CP932 (Shift_JIS): byte 0x{byte:02X} at byte "
                                f"offset {offset:,} (line {line:,}) is not valid {label}; re-save it as "
                                f"UTF-8 CSV")


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int, int] | None:
    """(byte offset, line, byte) of the first byte `encoding` cannot decode, or None if all decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fed = newlines = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(1 << 16)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's pending bytes plus this chunk: it ends where the input does.
                offset = fed + len(chunk) - len(exc.object) + exc.start
                # Pending bytes are part of an unfinished character, never a newline.
                line = newlines + chunk[: max(0, offset - fed)].count(b"\n") + 1
                return offset, line, exc.object[exc.start]
            if not chunk:
                return None
            fed += len(chunk)
            newlines += chunk.count(b"\n")


def check_csv_file(path: Path) -> None:
    """Refuse what is not CSV text before decoding it: a workbook or UTF-16 saved under a CSV name."""
    check_source_file(path)
    head = read_head(path)
    if head.startswith(ZIP_MAGIC):
        raise SourceFileError(path, "is an Excel workbook (a ZIP archive), not CSV text; name it .xlsx")
    if head.startswith(OLE_MAGIC):
        raise SourceFileError(path, "is an old .xls or a password-protected workbook, not CSV text; save it "
                                    "as CSV UTF-8 or as an unprotected .xlsx")
    if head.startswith(UTF16_BOMS):
        raise SourceFileError(path, "is UTF-16 text (Excel's 'Unicode Text'); save it as CSV UTF-8")


class CsvRows:
    """The rows of one CSV file: lists of cell strings, or an UnreadableRow per row that cannot be read.

    `header_score(cells)` (how many known column names a row has) picks the delimiter from the first
    `sniff_rows` non-blank lines. `row_shape(cells)`, set once the header is known, says whether cells
    look like a data row; it is what detects an unclosed quote (see the module docstring).
    """

    def __init__(self, path: Path, encoding: str, *, header_score: Callable[[list[str]], int],
                 sniff_rows: int) -> None:
        self.path = path
        self.encoding = encoding
        self.row_shape: Callable[[list[str]], bool] | None = None
        self._header_score = header_score
        self._sniff_rows = sniff_rows
        self.delimiter = ","
        self._first_line = ""

    def __iter__(self) -> Iterator[list[str] | UnreadableRow]:
        with self.path.open("r", encoding=self.encoding, newline="") as handle:
            self.delimiter = self._sniff(handle)
            yield from self._records(handle)

    def describe_start(self) -> str:
        """What the first line looks like, for a refusal that found no header (never its content)."""
        first = self._first_line
        if not first.strip():
            return "the file has only blank lines"
        width = len(self._split_line(first, self.delimiter))
        note = f"its first row has {width} column{'s' if width != 1 else ''} separated by " \
               f"{_separator_name(self.delimiter)} and none of the first rows names a known column"
        others = {sep: first.count(sep) for sep in (*DELIMITERS, *_OTHER_SEPARATORS) if sep != self.delimiter}
        separator, count = max(others.items(), key=lambda item: item[1])
        if count and count >= width:
            note += (f"; it contains {count} {_separator_name(separator)}: if that is the separator, export "
                     f"the file comma-, tab- or semicolon-separated")
        return note

    # -- delimiter ------------------------------------------------------------------------------------

    def _sniff(self, handle: TextIO) -> str:
        lines: list[str] = []
        while len(lines) < self._sniff_rows:
            line = handle.readline(PIECE_CHARS)
            if not line:
                break
            if line.strip():
                lines.append(line)
        handle.seek(0)
        self._first_line = lines[0] if lines else ""
        best, best_score = DELIMITERS[0], 0
        for delimiter in DELIMITERS:
            score = max((self._header_score(self._split_line(line, delimiter)) for line in lines), default=0)
            if score > best_score:
                best, best_score = delimiter, score
        return best

    @staticmethod
    def _split_line(line: str, delimiter: str) -> list[str]:
        try:
            return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        except csv.Error:
            return []

    # -- records --------------------------------------------------------------------------------------

    def _records(self, handle: TextIO) -> Iterator[list[str] | UnreadableRow]:
        delimiter = self.delimiter
        readline = handle.readline
        line_no = 0
        at_line_start = True
        start = 0  # first line of the open record; 0 between records
        parts: list[str] = []
        size = total = 0
        odd = truncated = False
        while piece := readline(PIECE_CHARS):
            complete = piece[-1] in "\r\n"
            if at_line_start:
                line_no += 1
                if start and odd and complete and self._looks_like_row(piece):
                    yield self._unclosed(parts, start, line_no - 1)
                    start = 0
                if not start:
                    if complete and '"' not in piece:  # the usual row: one short line without quotes
                        yield piece.rstrip("\r\n").split(delimiter) if piece.strip("\r\n") else []
                        continue
                    start, parts, size, total, odd, truncated = line_no, [], 0, 0, False, False
            at_line_start = complete
            odd ^= bool(piece.count('"') & 1)
            total += len(piece)
            if not truncated:
                if size + len(piece) <= MAX_RECORD_CHARS:
                    parts.append(piece)
                    size += len(piece)
                else:
                    truncated = True  # keep the prefix to find the column; skip the rest to the record end
            if complete and not odd:
                yield from self._finish(parts, (start, line_no), truncated, total)
                start = 0
        if start:
            if odd:
                yield self._unclosed(parts, start, line_no)
            else:
                yield from self._finish(parts, (start, line_no), truncated, total)

    def _looks_like_row(self, line: str) -> bool:
        if self.row_shape is None or line.count('"') % 2:
            return False
        return self.row_shape(self._split_line(line, self.delimiter))

    def _finish(self, parts: list[str], lines: tuple[int, int], truncated: bool,
                total: int) -> Iterator[list[str] | UnreadableRow]:
        text = "".join(parts)
        if truncated:
            yield self._too_large(text, lines, total)
            return
        if '"' not in text:
            rows = [text.rstrip("\r\n").split(self.delimiter) if text.strip("\r\n") else []]
        else:
            try:
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)) or [[]]
            except csv.Error:  # field larger than csv.field_size_limit
                yield self._too_large(text, lines, total)
                return
        for cells in rows:
            if len(text) > MAX_CELL_CHARS and any(len(cell) > MAX_CELL_CHARS for cell in cells):
                yield self._too_large(text, lines, total)
            else:
                yield cells

    def _too_large(self, text: str, lines: tuple[int, int], total: int) -> UnreadableRow:
        return UnreadableRow(problem=f"the cell is larger than {MAX_CELL_CHARS:,} characters (the row has "
                                     f"{total:,} characters); it was not read",
                             column=self._oversized_column(text), lines=lines)

    def _oversized_column(self, text: str) -> int | None:
        """Position of the first cell longer than MAX_CELL_CHARS (or cut off by the record limit)."""
        delimiter = self.delimiter
        column = length = 0
        quoted = False
        for char in text:
            if char == '"':
                quoted = not quoted
            elif char == delimiter and not quoted:
                column, length = column + 1, 0
                continue
            length += 1
            if length > MAX_CELL_CHARS:
                return column
        return column if len(text) >= MAX_RECORD_CHARS else None

    def _unclosed(self, parts: list[str], start: int, end: int) -> UnreadableRow:
        text = "".join(parts)
        try:
            cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter), [])
        except csv.Error:
            cells = []
        span = f"line {start:,}" if start == end else f"lines {start:,}-{end:,}"
        return UnreadableRow(problem=f"a quote (\") opened in this cell is never closed ({span}); fix the "
                                     f"quote and import again", column=len(cells) - 1 if cells else None,
                             cells=cells[:-1], lines=(start, end))
