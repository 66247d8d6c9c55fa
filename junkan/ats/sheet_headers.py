"""How a spreadsheet header is compared with the known column names (the applications export and the
jobs sheet alike): NFKC, case-folded, without spaces, `_`, `-`, `・`, `*`, `※`, `:` and bracketed notes,
so 「メールアドレス（必須）」, "E-mail" and "email" are one name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from junkan.ats.base import SourceFileError


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
