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

from junkan.db.models_pool import PoolTag
from junkan.engagement.bulk import insert_ignore_returning
from junkan.identity import normalize_text
from junkan.pool.signals import STAGE_LABELS, PoolSignals

MAX_TAG_CHARS = 100


class TagImportError(ValueError):
    """A tag file that cannot be read at all (one line naming the file and the problem)."""


def clean_tag(tag: str | None) -> str | None:
    text = normalize_text(tag)
    return text[:MAX_TAG_CHARS] if text else None


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
    rows = [{"candidate_id": cid, "tag": t, "source": source}
            for cid, tag in pairs if (t := clean_tag(tag))]
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


def read_tag_csv(path: Path) -> list[tuple[int, str, str]]:
    """(row number, candidate_ref, tag) from a CSV with the header candidate_ref,tag (UTF-8, BOM ok)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TagImportError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise TagImportError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "candidate_ref" not in header or "tag" not in header:
        raise TagImportError(f"{path}: the header must have the columns candidate_ref and tag")
    reader.fieldnames = header
    return [(n, (row.get("candidate_ref") or "").strip(), (row.get("tag") or "").strip())
            for n, row in enumerate(reader, start=2)]

