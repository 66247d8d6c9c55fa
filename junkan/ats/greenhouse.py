"""Greenhouse Harvest v3 adapter (v1/v2 were shut down on 2026-08-31).

Contract (docs/ingest.md "The ATS APIs", and harvestdocs.greenhouse.io):
- OAuth client credentials, as an httpx.Auth flow: see junkan/ats/greenhouse_auth.py.
- Lists are bare JSON arrays; the next page is only in `Link: <...?cursor=...>; rel="next"`, and that
  request must carry nothing but the cursor (the cursor embeds the original filters), else 422.
- List filters: `per_page` (≤500), `ids=1,2,3`, `updated_at=gte|<ISO>`.

Memory stays bounded: applications are streamed page by page, and each page's candidates are fetched
with one `ids` filter per batch, so at most one page of applications and candidates is held at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from junkan.ats.base import ApplicationRecord, BadRecord, JobRecord, OpeningRecord, ReasonRecord
from junkan.ats.consent_fields import GREENHOUSE_WORDING_FIELDS, greenhouse_consents
from junkan.ats.greenhouse_auth import VENDOR, GreenhouseAuth
from junkan.ats.job_text import html_to_text, skills_from_value
from junkan.ats.values import display_name, opt_id, parse_iso_datetime, to_iso_ms_z
from junkan.batching import batched
from junkan.http import HttpError, RetryingClient, next_link

log = logging.getLogger(__name__)

MAX_PER_PAGE = 500
#: Harvest's rate-limit window: when X-RateLimit-Remaining hits 0 without a reset, pause this long.
RATE_LIMIT_WINDOW_S = 10.0
#: Candidate ids per `ids=` request; keeps the URL well under common 8 KB limits.
CANDIDATE_BATCH = 200

REASON_KINDS = {
    "we rejected them": "rejected",
    "they rejected us": "withdrawn",
    "none specified": "unspecified",
}

_STATUS_MAP = {
    "active": "in_process",
    "in_process": "in_process",
    "hired": "hired",
    "rejected": "rejected",
}


def reason_kind(reason_type: Any) -> str:
    """ReasonRecord.kind from a reason's `type` (a string in v3, `{id, name}` in older payloads)."""
    if isinstance(reason_type, dict):
        reason_type = reason_type.get("name")
    if not isinstance(reason_type, str):
        return "unspecified"
    return REASON_KINDS.get(reason_type.strip().casefold(), "unspecified")


def map_status(status: Any, reason_kind_value: str | None) -> str:
    """Greenhouse status -> ApplicationStatus; unknown values pass through so ingest quarantines them."""
    raw = status.strip() if isinstance(status, str) else ("" if status is None else str(status))
    mapped = _STATUS_MAP.get(raw.casefold())
    if mapped is None:
        return raw
    if mapped == "rejected" and reason_kind_value == "withdrawn":
        return "withdrawn"
    return mapped


def _primary_email(candidate: dict[str, Any]) -> str | None:
    entries = candidate.get("email_addresses") or []
    values = [
        e for e in entries if isinstance(e, dict) and isinstance(e.get("value"), str) and e["value"].strip()
    ]
    for entry in values:
        if entry.get("primary") is True:
            return str(entry["value"]).strip()
    for entry in values:
        if entry.get("type") == "personal":
            return str(entry["value"]).strip()
    return str(values[0]["value"]).strip() if values else None


def _first_phone(candidate: dict[str, Any]) -> str | None:
    for entry in candidate.get("phone_numbers") or []:
        if isinstance(entry, dict) and isinstance(entry.get("value"), str) and entry["value"].strip():
            return str(entry["value"]).strip()
    return None


def _tags(candidate: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for tag in candidate.get("tags") or []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name.strip():
            out.append(name.strip())
    return tuple(out)


def job_ids(app: dict[str, Any]) -> set[str]:
    """Every job an application is for: `job_id`, and a prospect's `job_ids`/`jobs` (it may have several)."""
    ids = [app.get("job_id"), *(app.get("job_ids") or [])]
    ids += [j.get("id") for j in app.get("jobs") or [] if isinstance(j, dict)]
    return {i for i in map(opt_id, ids) if i is not None}


def _job_id(app: dict[str, Any]) -> str | None:
    if app.get("job_id") is not None:
        return opt_id(app.get("job_id"))
    jobs = app.get("jobs")
    if isinstance(jobs, list) and jobs and isinstance(jobs[0], dict):
        return opt_id(jobs[0].get("id"))
    return None


def _reason_ref(app: dict[str, Any]) -> tuple[str | None, Any]:
    """(reason id, embedded reason type if the payload carries one)."""
    if app.get("rejection_reason_id") is not None:
        return opt_id(app.get("rejection_reason_id")), None
    embedded = app.get("rejection_reason")
    if isinstance(embedded, dict):
        return opt_id(embedded.get("id")), embedded.get("type")
    return None, None


def _stage(app: dict[str, Any]) -> str | None:
    stage = app.get("stage_name")
    if stage is None and isinstance(app.get("current_stage"), dict):
        stage = app["current_stage"].get("name")
    return stage.strip() if isinstance(stage, str) and stage.strip() else None


def is_skipped(app: Any) -> bool:
    """Prospects are not applications; a `converted` application is a prospect superseded by the real
    application that Greenhouse created from it, which arrives on its own."""
    if not isinstance(app, dict):
        return False
    status = app.get("status")
    converted = isinstance(status, str) and status.strip().casefold() == "converted"
    return app.get("prospect") is True or converted


def map_application(
    app: Any, candidate: dict[str, Any] | None, reason_kinds: dict[str, str]
) -> ApplicationRecord | BadRecord | None:
    """One Harvest application (plus its candidate) as a record; None for skipped ones (see is_skipped)."""
    if not isinstance(app, dict):
        return BadRecord(reason=f"application is not a JSON object ({type(app).__name__})",
                         raw={"value": app})
    if is_skipped(app):
        return None
    external_id = opt_id(app.get("id"))
    raw: dict[str, Any] = {"application": app}
    if external_id is None:
        return BadRecord(reason="application without an id", raw=raw)
    candidate_id = opt_id(app.get("candidate_id"))
    if candidate_id is None:
        return BadRecord(reason="application without a candidate_id", raw=raw, external_id=external_id)
    if candidate is None:
        return BadRecord(reason=f"candidate {candidate_id} not found in Greenhouse", raw=raw,
                         external_id=external_id)
    try:
        consents = greenhouse_consents(candidate, _custom_value)
    except ValueError as exc:
        return BadRecord(reason=str(exc), raw=raw, external_id=external_id)
    raw["candidate"] = {"id": candidate_id, "can_email": candidate.get("can_email"), "consents": consents}
    wording = _custom_value(candidate, GREENHOUSE_WORDING_FIELDS)
    if isinstance(wording, str) and wording.strip():
        raw["consent_wording_version"] = wording.strip()
    reason_id, embedded_type = _reason_ref(app)
    kind = reason_kind(embedded_type) if embedded_type is not None else reason_kinds.get(reason_id or "")
    status = map_status(app.get("status"), kind)
    try:
        applied_at = parse_iso_datetime(app.get("applied_at") or app.get("created_at"), field="created_at")
        updated_at = parse_iso_datetime(app.get("updated_at"), field="updated_at")
        rejected_at = parse_iso_datetime(app.get("rejected_at"), field="rejected_at")
        hired_at = parse_iso_datetime(app.get("hired_at"), field="hired_at")
    except ValueError as exc:
        return BadRecord(reason=str(exc), raw=raw, external_id=external_id)
    decided_at: datetime | None = None
    if status in ("rejected", "withdrawn"):
        decided_at = rejected_at or updated_at
    elif status == "hired":
        decided_at = hired_at or updated_at
    return ApplicationRecord(
        external_id=external_id,
        status=status,
        email=_primary_email(candidate),
        name=display_name(candidate.get("first_name"), candidate.get("last_name")),
        phone=_first_phone(candidate),
        candidate_external_id=candidate_id,
        job_external_id=_job_id(app),
        applied_at=applied_at,
        decided_at=decided_at,
        reason_external_id=reason_id if status in ("rejected", "withdrawn") else None,
        stage=_stage(app),
        updated_at=updated_at,
        consents=consents,
        tags=_tags(candidate),
        raw=raw,
    )


#: Job custom fields read as skills (the field's key in `keyed_custom_fields`, or its name in
#: `custom_fields`, after case-folding): a company adds these fields to its jobs in Greenhouse.
REQUIRED_SKILL_FIELDS = ("required_skills", "必須スキル")
PREFERRED_SKILL_FIELDS = ("preferred_skills", "歓迎スキル")


def _custom_value(job: dict[str, Any], names: tuple[str, ...]) -> Any:
    """A custom field of a job or a candidate, by key or name (case-folded)."""
    keyed = job.get("keyed_custom_fields")
    if isinstance(keyed, dict):
        for key, entry in keyed.items():
            if isinstance(key, str) and key.casefold() in names:
                return entry.get("value") if isinstance(entry, dict) else entry
    custom = job.get("custom_fields")
    if isinstance(custom, dict):
        for key, value in custom.items():
            if isinstance(key, str) and key.casefold() in names:
                return value
    elif isinstance(custom, list):  # v3 may list them as objects
        for entry in custom:
            if isinstance(entry, dict) and any(
                isinstance(entry.get(k), str) and entry[k].casefold() in names for k in ("name_key", "name")
            ):
                return entry.get("value")
    return None


def _department(job: dict[str, Any]) -> str | None:
    if isinstance(job.get("departments"), list) and job["departments"]:
        first = job["departments"][0]
        name = first.get("name") if isinstance(first, dict) else None
    elif isinstance(job.get("department"), dict):
        name = job["department"].get("name")
    else:
        name = None
    return name if isinstance(name, str) else None


def _location(job: dict[str, Any]) -> str | None:
    """The first office: its location's name ("Tokyo, Japan") or else the office name."""
    offices = job.get("offices")
    if not isinstance(offices, list):
        return None
    for office in offices:
        if not isinstance(office, dict):
            continue
        where = office.get("location")
        name = where.get("name") if isinstance(where, dict) else where
        for text in (name, office.get("name")):
            if isinstance(text, str) and text.strip():
                return text.strip()
    return None


def _post_texts(posts: Iterable[Any]) -> dict[str, str]:
    """`job id -> text` of its job post: a live external post first, else any post with content."""
    best: dict[str, tuple[int, str]] = {}
    for post in posts:
        if not isinstance(post, dict) or (job_id := opt_id(post.get("job_id"))) is None:
            continue
        text = html_to_text(post.get("content") if isinstance(post.get("content"), str) else None)
        if text is None:
            continue
        rank = (2 if post.get("live") is True else 0) + (1 if post.get("internal") is not True else 0)
        if job_id not in best or rank > best[job_id][0]:
            best[job_id] = (rank, text)
    return {job_id: text for job_id, (_, text) in best.items()}


def map_job(job: Any, post_text: str | None) -> JobRecord | None:
    """One Harvest job as a record; None (and a log line naming no content) for one without an id."""
    job_id = opt_id(job.get("id")) if isinstance(job, dict) else None
    if job_id is None:
        log.warning("greenhouse: skipping a job without an id")
        return None
    try:
        opened_at = parse_iso_datetime(job.get("opened_at") or job.get("created_at"), field="opened_at")
        closed_at = parse_iso_datetime(job.get("closed_at"), field="closed_at")
    except ValueError as exc:
        log.warning("greenhouse: job %s has an unreadable date (%s); dates left empty", job_id, exc)
        opened_at = closed_at = None
    notes = job.get("notes")
    return JobRecord(
        external_id=job_id,
        title=str(job.get("name") or job.get("title") or job_id),
        status=str(job.get("status") or "open").casefold(),
        department=_department(job),
        opened_at=opened_at,
        closed_at=closed_at,
        description=post_text or (html_to_text(notes) if isinstance(notes, str) else None),
        required_skills=skills_from_value(_custom_value(job, REQUIRED_SKILL_FIELDS)),
        preferred_skills=skills_from_value(_custom_value(job, PREFERRED_SKILL_FIELDS)),
        location=_location(job),
    )


class GreenhouseAdapter:
    """Reads applications, candidates, jobs, openings and rejection reasons from Harvest v3."""

    def __init__(
        self,
        client: RetryingClient,
        *,
        base_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        user_id: str,
        source: str = "greenhouse",
        per_page: int = MAX_PER_PAGE,
        candidate_batch: int = CANDIDATE_BATCH,
    ) -> None:
        """`client` is the configured vendor client (junkan.http.build_client); the adapter closes it."""
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.per_page = max(1, min(per_page, MAX_PER_PAGE))
        self.candidate_batch = max(1, min(candidate_batch, MAX_PER_PAGE))
        self._http = client
        self._auth = GreenhouseAuth(auth_url=auth_url, client_id=client_id, client_secret=client_secret,
                                    user_id=user_id, clock=client.clock)
        self._reason_kinds: dict[str, str] | None = None
        #: Counts of what was read and skipped, for the flow's summary (no personal data).
        self._counts: dict[str, int] = {"pages": 0, "applications": 0, "prospects_skipped": 0,
                                        "bad_records": 0}

    @property
    def stats(self) -> dict[str, int]:
        return {**self._counts, "token_refreshes": self._auth.refreshes}

    def _get(self, url: str, params: dict[str, Any] | None) -> tuple[Any, httpx.Response]:
        return self._http.get_json(url, params=params, auth=self._auth)

    # -- listing ----------------------------------------------------------------------------------

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        url: str | None = f"{self.base_url}{path}"
        page_params: dict[str, Any] | None = params
        while url:
            body, response = self._get(url, page_params)
            if not isinstance(body, list):
                raise HttpError(
                    f"{VENDOR} GET {response.request.url.path}: expected a JSON array, got "
                    f"{type(body).__name__}",
                    vendor=VENDOR,
                    status=response.status_code,
                )
            self._counts["pages"] += 1
            yield body
            link = next_link(response)
            # The next link embeds every filter in its cursor; sending anything else earns a 422.
            url = urljoin(f"{self.base_url}/", link) if link else None
            page_params = None

    def _items(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        for page in self._pages(path, {"per_page": self.per_page, **(params or {})}):
            yield from page

    def _reasons(self) -> dict[str, str]:
        if self._reason_kinds is None:
            self._reason_kinds = {r.external_id: r.kind for r in self.fetch_rejection_reasons()}
        return self._reason_kinds

    def _candidates(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(ids, self.candidate_batch):
            params = {"ids": ",".join(chunk), "per_page": min(len(chunk), MAX_PER_PAGE)}
            for page in self._pages("/v3/candidates", params):
                for candidate in page:
                    if isinstance(candidate, dict) and (cid := opt_id(candidate.get("id"))) is not None:
                        found[cid] = candidate
        return found

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        params: dict[str, Any] = {"per_page": self.per_page}
        if since is not None:
            params["updated_at"] = f"gte|{to_iso_ms_z(since)}"
        for page in self._pages("/v3/applications", params):
            wanted = [a for a in page if not is_skipped(a)]
            self._counts["prospects_skipped"] += len(page) - len(wanted)
            candidate_ids = list(dict.fromkeys(
                cid for a in wanted if isinstance(a, dict) and (cid := opt_id(a.get("candidate_id")))
            ))
            candidates = self._candidates(candidate_ids) if candidate_ids else {}
            needs_reasons = any(
                isinstance(a, dict) and a.get("rejection_reason_id") is not None for a in wanted
            )
            reason_kinds = self._reasons() if needs_reasons else {}
            for app in wanted:
                cid = opt_id(app.get("candidate_id")) if isinstance(app, dict) else None
                record = map_application(app, candidates.get(cid or ""), reason_kinds)
                if record is None:
                    continue
                if isinstance(record, BadRecord):
                    self._counts["bad_records"] += 1
                else:
                    self._counts["applications"] += 1
                yield record

    def fetch_jobs(self) -> Iterator[JobRecord]:
        """Jobs with their posting text (the job post's `content`, else the job's `notes`)."""
        try:
            posts = _post_texts(self._items("/v3/job_posts"))
        except HttpError as exc:
            if exc.status != 403:
                raise
            # Credentials without the job posts scope still ingest; the job's notes stand in.
            log.warning("greenhouse: /v3/job_posts refused (403); job texts come from the jobs' notes")
            posts = {}
        for job in self._items("/v3/jobs"):
            record = map_job(job, posts.get(opt_id(job.get("id")) or "") if isinstance(job, dict) else None)
            if record is not None:
                yield record

    def fetch_openings(self) -> Iterator[OpeningRecord]:
        for opening in self._items("/v3/openings"):
            if not isinstance(opening, dict):
                continue
            opening_id = opt_id(opening.get("id"))
            job_id = opt_id(opening.get("job_id"))
            if opening_id is None or job_id is None:
                log.warning("greenhouse: skipping an opening without id or job_id")
                continue
            is_open = opening.get("open")
            if is_open is None:
                is_open = str(opening.get("status") or "").casefold() == "open"
            try:
                opened_at = parse_iso_datetime(opening.get("opened_at"), field="opened_at")
                closed_at = parse_iso_datetime(opening.get("closed_at"), field="closed_at")
            except ValueError as exc:
                log.warning("greenhouse: opening %s has an unreadable date (%s); dates left empty",
                            opening_id, exc)
                opened_at = closed_at = None
            yield OpeningRecord(
                external_id=opening_id,
                job_external_id=job_id,
                status="open" if is_open else "closed",
                opened_at=opened_at,
                closed_at=closed_at,
            )

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]:
        for reason in self._items("/v3/rejection_reasons"):
            reason_id = opt_id(reason.get("id")) if isinstance(reason, dict) else None
            if reason_id is None:
                continue
            yield ReasonRecord(
                external_id=reason_id,
                name=str(reason.get("name") or reason_id),
                kind=reason_kind(reason.get("type")),
            )

    def close(self) -> None:
        self._http.close()
