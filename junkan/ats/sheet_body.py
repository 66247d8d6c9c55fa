"""What lies below a sheet's header row, read the same way for the applications export and the jobs sheet."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from junkan.ats.csv_reader import CsvRows
from junkan.ats.sheet_headers import HeaderSearch
from junkan.ats.sheet_rows import UnreadableRow
from junkan.ats.sheet_values import json_safe

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
