"""The partner's periodic CSV report: columns ref_code, status, occurred_at (docs/partner.md).

Files arrive as UTF-8 (with or without a BOM) or CP932 (Shift_JIS) — Japanese office tools still write
the latter. `path` may be one file or a folder of reports (every *.csv, oldest name first). A report
restates what earlier ones said, so importing any file again is harmless: the ledger counts each
(code, status) once. `since` is therefore ignored; the whole report is read every time.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from junkan.partner.records import BadReferral, PartnerError, ReferralRecord, parse_item

#: Header names accepted for each contract column (NFKC + case-folded + trimmed before lookup).
HEADER_ALIASES: dict[str, str] = {
    "ref_code": "ref_code",
    "refcode": "ref_code",
    "referral_code": "ref_code",
    "code": "ref_code",
    "紹介コード": "ref_code",
    "紹介元コード": "ref_code",
    "status": "status",
    "ステータス": "status",
    "状態": "status",
    "occurred_at": "occurred_at",
    "occurred": "occurred_at",
    "date": "occurred_at",
    "発生日時": "occurred_at",
    "日時": "occurred_at",
    "登録日時": "occurred_at",
}
REQUIRED = ("ref_code", "status", "occurred_at")


def decode_report(data: bytes, *, name: str = "report") -> str:
    """UTF-8 (BOM stripped) when it decodes as such, else CP932; anything else is refused, not guessed."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise PartnerError(f"{name}: neither UTF-8 nor CP932 (byte {exc.start} is invalid)") from exc


def _header_key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold().replace(" ", "_")


class CsvReportSource:
    kind = "csv"

    def __init__(self, name: str, path: Path, *, tz: tzinfo = UTC) -> None:
        self.name = name
        self.path = Path(path)
        self._tz = tz
        self.stats: dict[str, float] = {}

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(p for p in self.path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if self.path.is_file():
            return [self.path]
        raise PartnerError(f"partner {self.name}: report not found at {self.path}")

    def fetch(self, since: datetime | None) -> Iterator[ReferralRecord | BadReferral]:
        files = self.files()
        rows = 0
        for path in files:
            for item in self._read(path):
                rows += 1
                yield item
        self.stats = {"files": len(files), "rows": rows}

    def _read(self, path: Path) -> Iterator[ReferralRecord | BadReferral]:
        text = decode_report(path.read_bytes(), name=path.name)
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            return
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            key = HEADER_ALIASES.get(_header_key(name))
            if key is not None and key not in columns:
                columns[key] = index
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise PartnerError(
                f"{path.name}: missing column(s) {', '.join(missing)}; expected ref_code, status, occurred_at"
            )
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                # Only "field larger than field limit" can arise here (the dialect is not strict). The
                # reader drops the rest of that physical line and goes on with the next one.
                where = f"{path.name} line {reader.line_num}"
                yield BadReferral(f"{where}: a cell is larger than {csv.field_size_limit():,} characters; "
                                  f"the line was not read", {})
                continue
            if not any(cell.strip() for cell in row):
                continue
            item = {key: (row[i] if i < len(row) else "") for key, i in columns.items()}
            yield parse_item(item, self._tz, where=f"{path.name} line {reader.line_num}")
