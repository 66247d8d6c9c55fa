"""How a spreadsheet header is compared with the known column names (the applications export and the
jobs sheet alike): NFKC, case-folded, without spaces, `_`, `-`, `・`, `*`, `※`, `:` and bracketed notes,
so 「メールアドレス（必須）」, "E-mail" and "email" are one name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from junkan.ats.base import SourceFileError
from junkan.ats.sheet_rows import UnreadableRow
from junkan.ats.sheet_values import cell_text

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
