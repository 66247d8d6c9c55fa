"""Lever adapter (`https://api.lever.co/v1`).

Contract (docs/ingest.md "The ATS APIs"): Basic auth with the API key as user and a blank password;
lists answer `{"data": [...], "hasNext": bool, "next": "token"}` and the next page repeats the query with
`offset=<token>`; timestamps are epoch milliseconds. An opportunity is archived with a reason whose
`type` is `hired` or `non-hired`; any non-hired archive is a rejection.

Jobs are postings, published (open) and closed ones, so a posting that closes is seen closing and one
that is published again counts as new again. Lever has no openings: a published posting is itself the
open opening, and the matcher takes a job without openings as its own target (docs/pool.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from junkan.ats.base import ApplicationRecord, BadRecord, JobRecord, OpeningRecord, ReasonRecord
from junkan.ats.consent_fields import lever_consents
from junkan.ats.job_text import html_to_text
from junkan.ats.values import from_epoch_ms, opt_id, to_epoch_ms
from junkan.http import HttpError, RetryingClient

log = logging.getLogger(__name__)

VENDOR = "lever"
MAX_LIMIT = 100
#: 10 requests/s steady: when the window is spent, a one-second pause refills it.
RATE_LIMIT_WINDOW_S = 1.0
# Lever has no "they declined" archive type: a non-hired reason is a withdrawal (辞退) only when its
# text says so (Lever's defaults include "Withdrew" and "Offer declined"), otherwise a rejection.
_WITHDRAWN_TEXT = re.compile(r"withdr[ae]w|declined|辞退|candidate (?:dropped|ghosted)", re.IGNORECASE)


def archive_reason_kind(reason: dict[str, Any]) -> str:
    """`hired`, or for a non-hired reason `withdrawn`/`rejected` (see _WITHDRAWN_TEXT)."""
    if str(reason.get("type") or "").casefold() == "hired":
        return "hired"
    text = reason.get("text")
    if isinstance(text, str) and _WITHDRAWN_TEXT.search(text):
        return "withdrawn"
    return "rejected"


#: Contact details of the person. The audit copy (decision log, quarantine) leaves them out, as the
#: Greenhouse adapter does: they live in `candidate`, where retention can anonymise them in one place.
_CONTACT_FIELDS = frozenset({"name", "emails", "phones", "headline", "location", "links", "urls"})
#: Of an expanded application only these: the rest (name, email, phone, custom questions) is personal.
_APPLICATION_FIELDS = ("id", "type", "posting", "createdAt", "archived")


def audit_payload(opp: dict[str, Any]) -> dict[str, Any]:
    """The opportunity as kept for audit: everything about the decision, nothing to reach the person."""
    kept = {key: value for key, value in opp.items() if key not in _CONTACT_FIELDS}
    if isinstance(kept.get("applications"), list):
        kept["applications"] = [
            {k: app[k] for k in _APPLICATION_FIELDS if k in app} if isinstance(app, dict) else app
            for app in kept["applications"]
        ]
    return kept


def map_opportunity(
    opp: Any, reasons: dict[str, dict[str, Any]]
) -> ApplicationRecord | BadRecord:
    if not isinstance(opp, dict):
        return BadRecord(reason=f"opportunity is not a JSON object ({type(opp).__name__})",
                         raw={"value_type": type(opp).__name__})
    external_id = opt_id(opp.get("id"))
    raw = {"opportunity": audit_payload(opp)}
    if external_id is None:
        return BadRecord(reason="opportunity without an id", raw=raw)
    archived = opp.get("archived")
    reason_id: str | None = None
    decided_at: datetime | None = None
    try:
        created_at = from_epoch_ms(opp.get("createdAt"), field="createdAt")
        updated_at = from_epoch_ms(opp.get("updatedAt"), field="updatedAt")
        if archived is None:
            status = "in_process"
        elif isinstance(archived, dict):
            reason_id = opt_id(archived.get("reason"))
            decided_at = from_epoch_ms(archived.get("archivedAt"), field="archived.archivedAt")
            reason = reasons.get(reason_id or "")
            if reason is None:
                # An archive reason we cannot classify: pass a raw status so ingest quarantines it.
                status = f"archived:{reason_id or 'no-reason'}"
            else:
                kind = archive_reason_kind(reason)
                status = {"hired": "hired", "withdrawn": "withdrawn"}.get(kind, "rejected")
        else:
            return BadRecord(reason="archived is neither null nor an object", raw=raw,
                             external_id=external_id)
    except ValueError as exc:
        return BadRecord(reason=str(exc), raw=raw, external_id=external_id)

    emails = [e.strip() for e in opp.get("emails") or [] if isinstance(e, str) and e.strip()]
    phones = [str(p["value"]) for p in opp.get("phones") or []
              if isinstance(p, dict) and isinstance(p.get("value"), str) and p["value"].strip()]
    consents, tags = lever_consents(
        tuple(t.strip() for t in opp.get("tags") or [] if isinstance(t, str) and t.strip()))
    stage = opp.get("stage")
    if isinstance(stage, dict):
        stage = stage.get("text") or stage.get("id")
    return ApplicationRecord(
        external_id=external_id,
        status=status,
        email=emails[0] if emails else None,
        name=opp["name"].strip() if isinstance(opp.get("name"), str) else None,
        phone=phones[0].strip() if phones else None,
        candidate_external_id=opt_id(opp.get("contact")),
        job_external_id=next(iter(posting_ids(opp)), None),  # the first application's posting
        applied_at=created_at,
        decided_at=decided_at,
        reason_external_id=reason_id if status in ("rejected", "withdrawn") else None,
        stage=stage if isinstance(stage, str) else None,
        updated_at=updated_at,
        tags=tags,
        consents=consents,
        # Lever's `location` is the place the person gave (a city), not an address.
        location=opp["location"].strip() if isinstance(opp.get("location"), str) and opp["location"].strip()
        else None,
        raw=raw,
    )


def posting_ids(opp: dict[str, Any]) -> list[str]:
    """The postings of the opportunity's applications, in order (only `expand=applications` gives the
    applications as objects; a posting is an id or an object)."""
    out: list[str] = []
    for app in opp.get("applications") or []:
        if isinstance(app, dict):
            posting = app.get("posting")
            if isinstance(posting, dict):
                posting = posting.get("id")
            if (pid := opt_id(posting)) is not None:
                out.append(pid)
    return out


_POSTING_STATES = {"published": "open", "closed": "closed", "draft": "draft"}


def _posting_text(posting: dict[str, Any]) -> str | None:
    """The description (plain if Lever gives it) and the lists (要件, 歓迎 …), as plain lines."""
    content: dict[str, Any] = posting["content"] if isinstance(posting.get("content"), dict) else {}
    plain = content.get("descriptionPlain") or posting.get("descriptionPlain")
    parts: list[str] = []
    if isinstance(plain, str) and plain.strip():
        parts.append(plain.strip())
    else:
        html = content.get("descriptionHtml") or content.get("description") or posting.get("description")
        if isinstance(html, str) and (text := html_to_text(html)):
            parts.append(text)
    for item in content.get("lists") or posting.get("lists") or []:
        if isinstance(item, dict):
            body = html_to_text(item.get("content")) if isinstance(item.get("content"), str) else None
            heading = item.get("text") if isinstance(item.get("text"), str) else None
            if body:
                parts.append(f"{heading}\n{body}" if heading else body)
    return "\n".join(parts) or None


def map_posting(posting: Any) -> JobRecord | None:
    """A Lever posting as a job: text, categories (department/team, location), tags as required skills."""
    pid = opt_id(posting.get("id")) if isinstance(posting, dict) else None
    if pid is None:
        log.warning("lever: skipping a posting without an id")
        return None
    categories = posting.get("categories") if isinstance(posting.get("categories"), dict) else {}
    try:
        opened_at = from_epoch_ms(posting.get("createdAt"), field="createdAt")
        updated_at = from_epoch_ms(posting.get("updatedAt"), field="updatedAt")
    except ValueError:
        log.warning("lever: posting %s has an unreadable date; dates left empty", pid)
        opened_at = updated_at = None
    state = str(posting.get("state") or "published").casefold()
    status = _POSTING_STATES.get(state, state)
    location = categories.get("location")
    tags = tuple(dict.fromkeys(
        t.strip() for t in posting.get("tags") or [] if isinstance(t, str) and t.strip()
    ))
    department = categories.get("department") or categories.get("team")
    return JobRecord(
        external_id=pid,
        title=str(posting.get("text") or pid),
        status=status,
        department=department if isinstance(department, str) else None,
        opened_at=opened_at,
        # Lever keeps no closing date: the last update of a closed posting is when it closed, at the latest.
        closed_at=updated_at if status == "closed" else None,
        description=_posting_text(posting),
        required_skills=tags,
        location=location if isinstance(location, str) and location.strip() else None,
    )


def pages(
    client: RetryingClient, url: str, params: dict[str, Any], *, auth: httpx.Auth
) -> Iterator[list[Any]]:
    """Every page (its `data` list) of a Lever list, for ingest and write-back alike. A reply without a
    data list is an HttpError rather than an empty page: read as empty, write-back would miss an
    opportunity that is there and make a second one."""
    offset: str | None = None
    seen: set[str] = set()
    while True:
        query = dict(params)
        if offset is not None:
            query["offset"] = offset
        body, response = client.get_json(url, params=query, auth=auth)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise HttpError(
                f"{VENDOR} GET {response.request.url.path}: expected an object with a data list",
                vendor=VENDOR, status=response.status_code,
            )
        yield body["data"]
        next_token = body.get("next")
        if not body.get("hasNext") or not isinstance(next_token, str) or not next_token:
            return
        if next_token in seen:
            # A repeated token would loop forever; fail loudly instead of silently re-reading.
            raise HttpError(f"{VENDOR} GET {response.request.url.path}: pagination token repeated",
                            vendor=VENDOR, status=response.status_code)
        seen.add(next_token)
        offset = next_token


class LeverAdapter:
    def __init__(
        self,
        client: RetryingClient,
        *,
        api_key: str,
        base_url: str = "https://api.lever.co/v1",
        source: str = "lever",
        limit: int = MAX_LIMIT,
    ) -> None:
        """`client` is the configured vendor client (junkan.http.build_client); the adapter closes it."""
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.limit = max(1, min(limit, MAX_LIMIT))
        self._http = client
        self._auth = httpx.BasicAuth(api_key, "")
        self._reasons: dict[str, dict[str, Any]] | None = None
        self.stats: dict[str, int] = {"pages": 0, "applications": 0, "bad_records": 0}

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        for page in pages(self._http, f"{self.base_url}{path}", params, auth=self._auth):
            self.stats["pages"] += 1
            yield page

    def _archive_reasons(self) -> dict[str, dict[str, Any]]:
        if self._reasons is None:
            self._reasons = {}
            for page in self._pages("/archive_reasons", {}):
                for reason in page:
                    if isinstance(reason, dict) and (rid := opt_id(reason.get("id"))) is not None:
                        self._reasons[rid] = reason
        return self._reasons

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        reasons = self._archive_reasons()
        params: dict[str, Any] = {"limit": self.limit, "expand": "applications"}
        if since is not None:
            params["updated_at_start"] = to_epoch_ms(since)
        for page in self._pages("/opportunities", params):
            for opp in page:
                record = map_opportunity(opp, reasons)
                self.stats["bad_records" if isinstance(record, BadRecord) else "applications"] += 1
                yield record

    def fetch_jobs(self) -> Iterator[JobRecord]:
        for state in ("published", "closed"):
            for page in self._pages("/postings", {"state": state, "limit": self.limit}):
                for posting in page:
                    record = map_posting(posting)
                    if record is not None:
                        yield record

    def fetch_openings(self) -> Iterator[OpeningRecord]:
        return iter(())

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]:
        for rid, reason in self._archive_reasons().items():
            kind = archive_reason_kind(reason)
            if kind == "hired":
                continue
            yield ReasonRecord(external_id=rid, name=str(reason.get("text") or rid), kind=kind)

    def close(self) -> None:
        self._http.close()
