"""The matches of a run for recruiters: rows, then CSV, JSON or an Excel workbook (docs/pool.md "Shortlist").

`match_rows` gives one dict per match by opaque id only. Its English keys are the JSON export's, kept
for scripts: job_id (the ATS's job id), opening_id (empty where the source has no openings: spreadsheets
and Lever, whose posting is its own opening), rank, score, candidate_ref, application_id (the ATS id of the
person's latest rejected/withdrawn application), why. With `extra` it adds what the Japanese shortlist
shows: job title, bucket, skills, 職種, the earlier application in separate columns, the ATS link.

Names appear only when the caller passes them (`junkan pool matches --with-names`); the file the flow
writes by itself never has them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from junkan.config import Settings
from junkan.db.models import Application, Job, Opening, RejectionReason
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.pool.explain import STAGE_PREFIXES
from junkan.pool.months import local_day
from junkan.pool.refs import ref_map
from junkan.pool.vocabulary.classify import Classifier
from junkan.pool.vocabulary.thesaurus import load_vocabulary

COLUMNS = ("job_id", "opening_id", "rank", "score", "candidate_ref", "application_id", "why")

#: The Japanese shortlist's columns (CSV with lang=ja and every sheet of the workbook), in this order:
#: header -> key of the row dict.
JA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("求人ID", "job_id"), ("求人名", "job_title"), ("順位", "rank"), ("スコア（0–100）", "score"),
    ("一致度（強い・良い・部分）", "bucket"), ("一致スキル", "matched_skills"),
    ("不足スキル", "missing_skills"),
    ("職種", "occupation"), ("前回の応募求人", "previous_job"), ("前回の選考段階", "previous_stage"),
    ("前回の不採用理由", "previous_reason"), ("前回の選考結果日", "previous_decided_on"),
    ("前回の応募ID", "application_id"), ("候補者ID", "candidate_ref"), ("募集枠ID", "opening_id"),
    ("一致の理由", "match_reasons"), ("ATSで開く", "ats_url"),
)
NAME_HEADER = "氏名"
LINK_TEXT = "ATSで開く"
SUMMARY_SHEET = "概要"
SUMMARY_HEADERS = ("求人ID", "求人名", "募集枠ID", "職種", "候補者数", "強い一致", "良い一致", "部分一致",
                   "最高スコア", "シート")
_SEP = "、"
_BUCKET_SHORT = {"強い一致": "強い", "良い一致": "良い", "部分一致": "部分"}
#: Characters Excel refuses in a sheet name, and its length limit.
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31


def occupation(job: Job, classifier: Classifier) -> str:
    """職種 of a job for the shortlist: its occupation family (docs/pool.md "Vocabulary"), as the matcher
    classifies it; the ATS's department when no family names it."""
    found = classifier.of_job(job.title, job.description, job.required_skills or ())
    return classifier.vocab.families[found.family].ja if found else (job.department or "")


def latest_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(MatchRun.id)))


def person_url(settings: Settings, source: str, application_ext: str,
               candidate_ext: str | None) -> str | None:
    """The person in the ATS's web app: Greenhouse /people/<candidate>, Lever /candidates/<opportunity>.
    None for spreadsheets, another source, or a Greenhouse application whose person id is unknown."""
    ats = settings.ats
    base = ats.web_app_url
    if base is None or source != ats.source:
        return None
    if ats.kind == "greenhouse":
        return f"{base}/people/{candidate_ext}?application_id={application_ext}" if candidate_ext else None
    return f"{base}/candidates/{application_ext}"


def _top_level_parts(why: str) -> list[str]:
    """Split an explanation at 「、」 outside （…）, where skill lists use the same mark."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in why:
        depth += (ch == "（") - (ch == "）")
        if ch == _SEP and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def match_reasons(why: str) -> str:
    """The match part of an explanation without the earlier outcome, which has columns of its own.
    `junkan.pool.explain` always ends with the stage part (「前回は…まで」, 「以前の応募で…まで」) after an
    interview and the pool reason."""
    parts = _top_level_parts(why)[:-1]
    return _SEP.join(p for p in parts if not p.startswith(STAGE_PREFIXES))


def match_rows(session: Session, settings: Settings, run_id: int, *,
               extra: bool = False) -> list[dict[str, Any]]:
    """One dict per match, ordered by job, opening and rank. `extra` adds the shortlist's columns."""
    app = aliased(Application)
    past_job = aliased(Job)
    rows = session.execute(
        select(PoolMatch, Job, Opening.external_id.label("opening_ext"), app,
               past_job.title.label("past_title"), RejectionReason.name.label("reason_name"))
        .join(Job, Job.id == PoolMatch.job_id)
        .outerjoin(Opening, Opening.id == PoolMatch.opening_id)
        .join(app, app.id == PoolMatch.application_id)
        .outerjoin(past_job, past_job.id == app.job_id)
        .outerjoin(RejectionReason, RejectionReason.id == app.reason_id)
        .where(PoolMatch.run_id == run_id)
        .order_by(Job.external_id, Opening.external_id, PoolMatch.rank)
    ).all()
    refs = ref_map({r[0].candidate_id for r in rows}, settings.links)
    zone = settings.business.timezone
    classifier = Classifier(load_vocabulary(settings.recontact.thesaurus_path)) if extra else None
    out: list[dict[str, Any]] = []
    for m, job, opening_ext, past, past_title, reason_name in rows:
        row: dict[str, Any] = {
            "job_id": job.external_id, "opening_id": opening_ext or "", "rank": m.rank,
            "score": round(m.score, 1), "candidate_ref": refs[m.candidate_id],
            "application_id": past.external_id, "why": m.why,
        }
        if extra:
            row.update({
                "job_title": job.title, "bucket": m.bucket, "holdout": m.holdout,
                "components": {"required": m.required_score, "preferred": m.preferred_score,
                               "text": m.text_score, "location": m.location_score,
                               "potential": m.potential_score},
                "matched_required": m.matched_required, "missing_required": m.missing_required,
                "matched_preferred": m.matched_preferred,
                "matched_skills": _SEP.join([*m.matched_required, *m.matched_preferred]),
                "missing_skills": _SEP.join(m.missing_required),
                "occupation": occupation(job, classifier) if classifier else "",
                "previous_job": past_title or "",
                "previous_stage": past.stage_reached or "",
                "previous_reason": reason_name or past.reason_text or "",
                "previous_decided_on": local_day(past.decided_at, zone) if past.decided_at else None,
                "match_reasons": match_reasons(m.why),
                "ats_url": person_url(settings, past.source, past.external_id, past.candidate_external_id),
                "candidate_id": m.candidate_id, "match_id": m.id,
            })
        out.append(row)
    return out


def _ja_value(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if key == "bucket":
        return _BUCKET_SHORT.get(value or "", value or "")
    return "" if value is None else value


def to_csv(rows: list[dict[str, Any]], *, lang: str = "en", names: Mapping[int, str | None] | None = None,
           bom: bool = True) -> bytes:
    """CSV for Excel (UTF-8 with a BOM unless `bom` is off): the English COLUMNS, or with lang=ja the
    Japanese shortlist's (rows from `match_rows(extra=True)`); `names` adds 氏名 by internal id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if lang == "ja":
        writer.writerow([h for h, _k in JA_COLUMNS] + ([NAME_HEADER] if names is not None else []))
        for row in rows:
            cells = [_ja_value(row, k) for _h, k in JA_COLUMNS]
            if names is not None:
                cells.append(names.get(row["candidate_id"]) or "")
            writer.writerow(cells)
    else:
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row[c] for c in COLUMNS])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([{c: r[c] for c in COLUMNS} for r in rows], ensure_ascii=False, indent=2)


def _sheet_title(job_id: str, opening_id: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", f"{job_id}-{opening_id}" if opening_id else job_id)[:_SHEET_MAX] or "求人"
    title, n = base, 2
    while title.casefold() in taken or title == SUMMARY_SHEET:
        suffix = f"~{n}"
        title, n = base[:_SHEET_MAX - len(suffix)] + suffix, n + 1
    taken.add(title.casefold())
    return title


def to_xlsx(rows: list[dict[str, Any]], *, names: Mapping[int, str | None] | None = None) -> bytes:
    """The shortlist workbook: a summary sheet, then one sheet per job (and opening) with the Japanese
    columns; numbers stay numbers, the earlier decision is a date, 「ATSで開く」 is a hyperlink."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    summary.append(SUMMARY_HEADERS)
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_target[(r["job_id"], r["opening_id"])].append(r)
    headers = [h for h, _k in JA_COLUMNS] + ([NAME_HEADER] if names is not None else [])
    link_col = [k for _h, k in JA_COLUMNS].index("ats_url") + 1
    bold = Font(bold=True)
    taken: set[str] = set()
    for (job_id, opening_id), matches in by_target.items():
        title = _sheet_title(job_id, opening_id, taken)
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for row in matches:
            cells = [_ja_value(row, k) for _h, k in JA_COLUMNS]
            cells[link_col - 1] = LINK_TEXT if row.get("ats_url") else ""
            if names is not None:
                cells.append(names.get(row["candidate_id"]) or "")
            sheet.append(cells)
            if row.get("ats_url"):
                cell = sheet.cell(row=sheet.max_row, column=link_col)
                cell.hyperlink = row["ats_url"]
                cell.style = "Hyperlink"
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        date_col = [k for _h, k in JA_COLUMNS].index("previous_decided_on") + 1
        for (cell,) in sheet.iter_rows(min_row=2, min_col=date_col, max_col=date_col):
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
        counts = defaultdict(int, {b: sum(1 for m in matches if m.get("bucket") == b)
                                   for b in ("強い一致", "良い一致", "部分一致")})
        summary.append([job_id, matches[0].get("job_title", ""), opening_id, matches[0].get("occupation", ""),
                        len(matches), counts["強い一致"], counts["良い一致"], counts["部分一致"],
                        max(m["score"] for m in matches), title])
    for cell in summary[1]:
        cell.font = bold
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
