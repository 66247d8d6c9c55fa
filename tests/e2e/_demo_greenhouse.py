"""The demo company (junkan/demo/company.py) as Greenhouse Harvest v3 records, for the ATS fake.

The demo's ATS is a CP932 CSV export; the fault drill needs an ATS that answers over HTTP (429, 5xx,
truncated JSON), so the same export and jobs sheet are converted, row by row, into what Greenhouse would
hold: one candidate per address (consents in yes/no custom fields), one application per row, the jobs
with their skills and openings, the rejection reasons. The export's three broken rows stay broken
(a missing @, an impossible date, an unknown status), so ingest quarantines what it quarantines from CSV.
"""

from __future__ import annotations

import csv
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from junkan.demo.company import JOBS_SHEET_HEADERS, REJECTION_REASONS
from tests.fakes.greenhouse import GreenhouseData, iso

JST = ZoneInfo("Asia/Tokyo")
WITHDRAWAL_REASON = {"id": 9199, "name": "他社で内定", "type": "They rejected us"}
REASONS = [{"id": 9101 + n, "name": name, "type": "We rejected them"}
           for n, (name, _stage, _weight) in enumerate(REJECTION_REASONS)] + [WITHDRAWAL_REASON]
_REASON_IDS = {r["name"]: r["id"] for r in REASONS}
_STATUSES = {"採用": "hired", "不採用": "rejected", "辞退": "rejected", "選考中": "active"}


def _job_id(code: str) -> int:
    return 4000 + int(code.removeprefix("J"))


def _moment(day: str) -> str:
    """A sheet date (YYYY/MM/DD) at 10:00 JST in Harvest's format; an impossible date stays impossible."""
    try:
        parsed = datetime.strptime(day, "%Y/%m/%d").date()
    except ValueError:
        return day.replace("/", "-") + "T01:00:00.000Z"
    return iso(datetime.combine(parsed, time(10, 0), JST))


def _yes(value: str) -> bool:
    return value == "はい"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="cp932", newline="") as fh:
        return list(csv.DictReader(fh))


def from_demo(export: Path, jobs_sheet: Path) -> GreenhouseData:
    candidates: dict[str, dict[str, Any]] = {}
    applications: list[dict[str, Any]] = []
    for row in _rows(export):
        email = row["メールアドレス"]
        candidate = candidates.setdefault(email, {
            "id": 100_000 + len(candidates),
            "first_name": "",
            "last_name": row["氏名"],
            "email_addresses": [{"value": email, "type": "personal"}] if email else [],
            "phone_numbers": [{"value": row["電話番号"], "type": "mobile"}] if row["電話番号"] else [],
            "tags": [],
            "can_email": True,
        })
        # A re-application states consent again: the candidate's fields hold the newest answers.
        candidate["keyed_custom_fields"] = {
            key: {"name": key, "type": "yes_no", "value": _yes(row[column])}
            for key, column in (("talent_pool_consent", "タレントプール同意"),
                                ("partner_info_consent", "パートナー案内同意"),
                                ("recontact_consent", "再連絡同意"))
        }
        tags = [t for t in (row["タグ"], *row["スキル"].split("、")) if t]
        candidate["tags"] = list(dict.fromkeys([*candidate["tags"], *tags]))
        status = _STATUSES.get(row["選考結果"], row["選考結果"])
        reason = WITHDRAWAL_REASON["id"] if row["選考結果"] == "辞退" else _REASON_IDS.get(row["不採用理由"])
        applied = _moment(row["応募日"])
        decided = _moment(row["選考結果日"]) if row["選考結果日"] else None
        app: dict[str, Any] = {
            "id": int(row["応募ID"].removeprefix("A")),
            "candidate_id": candidate["id"],
            "job_id": _job_id(row["求人ID"]),
            "status": status,
            "prospect": False,
            "stage_name": row["選考段階"],
            "created_at": applied,
            "updated_at": decided or applied,
            "last_activity_at": decided or applied,
            "rejected_at": decided if status == "rejected" else None,
            "hired_at": decided if status == "hired" else None,
            "rejection_reason_id": reason if status == "rejected" else None,
        }
        applications.append(app)
    jobs, openings = _jobs(jobs_sheet)
    return GreenhouseData(applications=applications, candidates=list(candidates.values()), jobs=jobs,
                          openings=openings, rejection_reasons=[dict(r) for r in REASONS])


def _jobs(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs: list[dict[str, Any]] = []
    openings: list[dict[str, Any]] = []
    with path.open(encoding="cp932", newline="") as fh:
        reader = csv.reader(fh)
        assert tuple(next(reader)) == JOBS_SHEET_HEADERS
        for code, title, state, opened, closed, required, preferred, place, dept, text in reader:
            job_id = _job_id(code)
            is_open = state == "募集中"
            jobs.append({
                "id": job_id, "name": title, "status": "open" if is_open else "closed",
                "departments": [{"id": 70, "name": dept}],
                "offices": [{"id": 80, "name": place, "location": {"name": place}}],
                "opened_at": _moment(opened), "closed_at": _moment(closed) if closed else None,
                "created_at": _moment(opened), "notes": text,
                "keyed_custom_fields": {
                    "required_skills": {"name": "Required skills", "value": required},
                    "preferred_skills": {"name": "Preferred skills", "value": preferred},
                },
            })
            openings.append({"id": 5000 + job_id, "job_id": job_id, "open": is_open,
                             "opened_at": _moment(opened), "closed_at": _moment(closed) if closed else None})
    return jobs, openings
