"""Pool tags: automatic ones (ATS tags, stage reached, job family, skills) and operator ones.

Automatic tags are derived on every read, so they never go stale; operator tags live in `pool_tag`
(`junkan pool tag`, or a CSV import with columns candidate_ref,tag).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from junkan.ats.base import SourceFileError
from junkan.ats.csv_reader import check_csv_file, detect_encoding
from junkan.db.models_pool import PoolTag
from junkan.engagement.bulk import insert_ignore_returning
from junkan.identity import normalize_text
from junkan.pool.signals import STAGE_LABELS, PoolSignals

MAX_TAG_CHARS = 100


class TagImportError(ValueError):
    """A tag file that cannot be read at all (one line naming the file and the problem)."""


def clean_tag(tag: str | None) -> str | None:
    """The tag as stored (NFKC, trimmed), or None when nothing is left. Never cut: see `tag_problem`."""
    return normalize_text(tag) or None


def tag_problem(tag: str | None) -> str | None:
    """Why an operator tag cannot be stored ("is empty", "is longer than …"), or None.

    A tag is a label people filter by; cut to the column's width it would be another label, so a long
    one is refused with its length and never shortened behind the operator's back.
    """
    text = clean_tag(tag)
    if text is None:
        return "is empty"
    if len(text) > MAX_TAG_CHARS:
        return f"is longer than {MAX_TAG_CHARS} characters ({len(text):,}); shorten it"
    return None


def auto_tags(signals: PoolSignals, i: int) -> list[str]:
    tags: list[str] = []
    tags.extend(signals.ats_tags[i])
    tags.append(f"stage:{STAGE_LABELS[int(signals.max_stage_level[i])]}")
    if signals.job_family[i]:
        tags.append(f"family:{signals.job_family[i]}")
    tags.extend(f"skill:{s}" for s in signals.skills[i])
    return list(dict.fromkeys(t for t in (clean_tag(x) for x in tags) if t))


def all_tags(signals: PoolSignals, i: int) -> list[str]:
    return list(dict.fromkeys([*auto_tags(signals, i), *signals.operator_tags[i]]))


def add_tags(session: Session, pairs: Iterable[tuple[int, str]], *, source: str = "operator") -> int:
    rows: list[dict[str, object]] = []
    for cid, tag in pairs:
        if (problem := tag_problem(tag)) is not None:
            raise TagImportError(f"tag {problem}")  # callers check first; never store a cut tag
        rows.append({"candidate_id": cid, "tag": clean_tag(tag), "source": source})
    if not rows:
        return 0
    # executemany rowcounts are not reliable on every driver; RETURNING counts what was really added.
    return len(insert_ignore_returning(session, PoolTag.__table__, rows, "id"))


@dataclass
class TagImport:
    rows: int = 0
    added: int = 0
    #: (row number, reason) for each row that was not applied.
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_tag_csv(path: Path) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """((row number, candidate_ref, tag) of each row, (row number, problem) of each unreadable row) from
    a CSV with the header candidate_ref,tag.

    The file is checked and decoded as the ATS export is (UTF-8 with or without BOM, or CP932, which
    Excel in Japan still writes; anything else is refused in one line naming the first bad byte).
    """
    try:
        check_csv_file(path)
        text = path.read_text(encoding=detect_encoding(path))
    except SourceFileError as exc:
        raise TagImportError(str(exc)) from None
    except OSError as exc:
        raise TagImportError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if "candidate_ref" not in header or "tag" not in header:
        raise TagImportError(f"{path}: the header must have the columns candidate_ref and tag")
    ref_at, tag_at = header.index("candidate_ref"), header.index("tag")
    rows: list[tuple[int, str, str]] = []
    unreadable: list[tuple[int, str]] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return rows, unreadable
        except csv.Error:  # a cell past the field limit: that line only, the reader goes on
            limit = csv.field_size_limit()
            unreadable.append((reader.line_num, f"a cell is larger than {limit:,} characters"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        ref = cells[ref_at].strip() if ref_at < len(cells) else ""
        tag = cells[tag_at].strip() if tag_at < len(cells) else ""
        rows.append((reader.line_num, ref, tag))
