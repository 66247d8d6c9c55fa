"""What the CSV and XLSX readers hand the spreadsheet adapter: rows of cells, or a row they could not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The largest cell kept, in characters: the csv module's own field limit. Excel itself stops at 32,767,
#: so anything longer is a paste gone wrong (or an attack on memory); its row is quarantined.
MAX_CELL_CHARS = 131_072


@dataclass(frozen=True, slots=True)
class UnreadableRow:
    """One row the reader could not take apart; the adapter quarantines it and goes on.

    `problem` says what is wrong without quoting any cell ("a cell is larger than …"); `column` is the
    0-based position of the cell at fault when known; `cells` holds what could be read (may be empty).
    """

    problem: str
    column: int | None = None
    cells: list[Any] = field(default_factory=list)
    #: First and last physical line of a CSV record (a quoted cell may span several lines).
    lines: tuple[int, int] | None = None
