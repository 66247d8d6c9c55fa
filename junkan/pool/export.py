"""The matches of a run as CSV (UTF-8 with BOM, for Excel) or JSON, by opaque id only (docs/pool.md).

Columns: job_id (the ATS's job id), opening_id (empty for spreadsheets), rank, score, candidate_ref,
application_id (the ATS id of the person's latest rejected/withdrawn application, so a recruiter finds them
in the ATS), why. No name, no address.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from junkan.config import Settings
from junkan.db.models import Application, Job, Opening
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.pool.refs import ref_map

COLUMNS = ("job_id", "opening_id", "rank", "score", "candidate_ref", "application_id", "why")


def latest_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(MatchRun.id)))


def match_rows(session: Session, settings: Settings, run_id: int, *,
               extra: bool = False) -> list[dict[str, Any]]:
    """One dict per match, ordered by job, opening and rank. `extra` adds bucket, components, skills."""
    app = aliased(Application)
    rows = session.execute(
        select(PoolMatch, Job.external_id.label("job_ext"), Job.title.label("job_title"),
               Opening.external_id.label("opening_ext"), app.external_id.label("app_ext"))
        .join(Job, Job.id == PoolMatch.job_id)
        .outerjoin(Opening, Opening.id == PoolMatch.opening_id)
        .join(app, app.id == PoolMatch.application_id)
        .where(PoolMatch.run_id == run_id)
        .order_by(Job.external_id, Opening.external_id, PoolMatch.rank)
    ).all()
    refs = ref_map({r[0].candidate_id for r in rows}, settings.links)
    out: list[dict[str, Any]] = []
    for m, job_ext, job_title, opening_ext, app_ext in rows:
        row: dict[str, Any] = {
            "job_id": job_ext, "opening_id": opening_ext or "", "rank": m.rank, "score": round(m.score, 1),
            "candidate_ref": refs[m.candidate_id], "application_id": app_ext, "why": m.why,
        }
        if extra:
            row.update({
                "job_title": job_title, "bucket": m.bucket, "holdout": m.holdout,
                "components": {"required": m.required_score, "preferred": m.preferred_score,
                               "text": m.text_score, "location": m.location_score,
                               "potential": m.potential_score},
                "matched_required": m.matched_required, "missing_required": m.missing_required,
                "matched_preferred": m.matched_preferred,
            })
        out.append(row)
    return out


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
