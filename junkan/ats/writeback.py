"""Writing re-contact results into Greenhouse Harvest v3 and Lever v1 (docs/pool.md "Write-back").

Each writer answers three questions for one planned write: who is the person in the ATS (`resolve`),
is the write already there (`present`, for a write a crash may have interrupted, and before every new
application or opportunity), and write it (`write`, returning the ATS's id of what it made). Neither ATS
takes an idempotency key, so notes carry our opaque key as their last line and `present` looks for it; a
tag is present when the person has it; an application or opportunity when the person has one on the job.

Greenhouse (OAuth client credentials, as for ingest; the author of every write is the token's `sub`
user): the tag is created once (`POST /v3/candidate_tags`) and applied (`POST /v3/applied_candidate_tags`);
notes are `POST /v3/notes` with `note_type` NOTE on the candidate (the notes about a re-application, and
its hire, anchored to that application); a prospect is `POST /v3/applications` with `prospect: true` and
`job_ids`. Lists narrow to a parent resource by `candidate_ids` (the documented plural; the singular is
answered 422). No call carries a rejection e-mail option: Junkan sends its own mail, exactly once.
Lever (API key, every write with `perform_as`): `POST /opportunities/:id/addTags`,
`POST /opportunities/:id/notes`, and a new opportunity for the posting, `POST /opportunities` with the
person's e-mail address so that Lever links it to the existing contact (Lever dedupes by e-mail). The
address goes into that request body only: never into a log line, an exception or a result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin

import httpx

from junkan.ats.greenhouse import CANDIDATE_BATCH, MAX_PER_PAGE, job_ids
from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.ats.lever import pages, posting_ids
from junkan.ats.values import opt_id
from junkan.batching import batched
from junkan.http import HttpError, RetryingClient, decode_json, next_link


@dataclass(frozen=True, slots=True)
class Write:
    """One planned write, as the writer needs it: ids of the ATS and the text, no name."""

    key: str
    action: str
    #: The ATS's id of the application the write is about (Lever: the opportunity).
    application_ext: str
    #: The ATS's id of the person (Greenhouse candidate, Lever contact); None until resolved.
    person_ext: str | None
    job_ext: str
    text: str
    #: The person's address, only for a write that must name it (`AtsWriter.needs_email`); kept out of
    #: the repr so that no log line or traceback shows it.
    email: str | None = field(default=None, repr=False)


class Unwritable(Exception):
    """This write cannot be made in this ATS (the person is unknown there, no address to link them):
    recorded as failed with the message, which names no person."""


class AtsWriter(Protocol):
    #: Actions this ATS can take.
    actions: frozenset[str]
    #: Actions whose write carries the person's e-mail address (the ATS links the person by it).
    needs_email: frozenset[str]

    def resolve(self, application_exts: Iterable[str]) -> dict[str, str]: ...

    def present(self, write: Write) -> str | None: ...

    def write(self, write: Write) -> str: ...

    def close(self) -> None: ...


#: Notes about a re-application (it came from re-contact; it ended in a hire), written on that application.
APPLICATION_NOTES = frozenset({"reapplied_note", "hired_note"})


def marker(key: str) -> str:
    """The last line of every note we write: how a re-run recognises it."""
    return f"[junkan:{key}]"


def _num(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class GreenhouseWriter:
    actions = frozenset({"tag", "note", "prospect", "reapplied_note", "hired_note"})
    needs_email: frozenset[str] = frozenset()

    def __init__(self, client: RetryingClient, *, base_url: str, auth: GreenhouseAuth, tag_name: str) -> None:
        self._http = client
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._tag_name = tag_name
        self._tag_id: str | None = None

    def close(self) -> None:
        self._http.close()

    def _list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        url: str | None = f"{self.base_url}{path}"
        page_params: dict[str, Any] | None = {"per_page": MAX_PER_PAGE, **params}
        out: list[dict[str, Any]] = []
        while url:
            body, response = self._http.get_json(url, params=page_params, auth=self._auth)
            out += [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []
            link = next_link(response)
            # The next link embeds every filter in its cursor (docs/ingest.md).
            url, page_params = (urljoin(f"{self.base_url}/", link) if link else None), None
        return out

    def _post(self, path: str, body: dict[str, Any]) -> str:
        response = self._http.request("POST", f"{self.base_url}{path}", json_body=body, auth=self._auth)
        reply = decode_json(response, self._http.vendor)
        made = opt_id(reply.get("id")) if isinstance(reply, dict) else None
        if made is None:
            raise HttpError(f"greenhouse POST {path}: the reply carries no id", vendor=self._http.vendor,
                            status=response.status_code)
        return made

    def resolve(self, application_exts: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in batched(list(application_exts), CANDIDATE_BATCH):
            for app in self._list("/v3/applications", {"ids": ",".join(chunk)}):
                if (aid := opt_id(app.get("id"))) and (cid := opt_id(app.get("candidate_id"))):
                    found[aid] = cid
        return found

    def _tag(self) -> str:
        if self._tag_id is None:
            known = [t for t in self._list("/v3/candidate_tags", {}) if t.get("name") == self._tag_name]
            self._tag_id = opt_id(known[0].get("id")) if known else None
            if self._tag_id is None:
                self._tag_id = self._post("/v3/candidate_tags", {"name": self._tag_name})
        return self._tag_id

    def present(self, write: Write) -> str | None:
        person = _person(write)
        if write.action == "tag":
            tag = self._tag()
            applied = self._list("/v3/applied_candidate_tags", {"candidate_ids": person})
            hit = [a for a in applied if opt_id(a.get("candidate_tag_id")) == tag]
        elif write.action == "prospect":
            apps = self._list("/v3/applications", {"candidate_ids": person})
            hit = [a for a in apps if write.job_ext in job_ids(a)]
        else:
            notes = self._list("/v3/notes", {"candidate_ids": person})
            hit = [n for n in notes if marker(write.key) in str(n.get("body") or "")]
        return (opt_id(hit[0].get("id")) or "present") if hit else None

    def write(self, write: Write) -> str:
        person = _num(_person(write))
        if write.action == "tag":
            return self._post("/v3/applied_candidate_tags",
                              {"candidate_id": person, "candidate_tag_id": _num(self._tag())})
        if write.action == "prospect":
            return self._post("/v3/applications",
                              {"candidate_id": person, "prospect": True, "job_ids": [_num(write.job_ext)]})
        note: dict[str, Any] = {"candidate_id": person, "body": write.text, "note_type": "NOTE",
                                "visibility": "public"}
        if write.action in APPLICATION_NOTES:  # on the new application itself, where the recruiter looks
            note["application_id"] = _num(write.application_ext)
        return self._post("/v3/notes", note)


class LeverWriter:
    actions = frozenset({"tag", "note", "prospect", "reapplied_note", "hired_note"})
    needs_email = frozenset({"prospect"})

    def __init__(self, client: RetryingClient, *, base_url: str, api_key: str, perform_as: str,
                 tag_name: str) -> None:
        self._http = client
        self.base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(api_key, "")
        self._perform_as = perform_as
        self._tag_name = tag_name

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._http.request("GET", f"{self.base_url}{path}", auth=self._auth, params=params)
        body = decode_json(response, self._http.vendor)
        return body if isinstance(body, dict) else {}

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self._http.request("POST", f"{self.base_url}{path}", json_body=body, auth=self._auth,
                                      params={"perform_as": self._perform_as})
        reply = decode_json(response, self._http.vendor)
        return reply.get("data") if isinstance(reply, dict) else None

    def resolve(self, application_exts: Iterable[str]) -> dict[str, str]:
        # Tags and notes live on the opportunity (ingest's application); a new opportunity needs the
        # contact, which each opportunity names.
        found: dict[str, str] = {}
        for opportunity in application_exts:
            data = self._get(f"/opportunities/{opportunity}").get("data")
            if isinstance(data, dict) and (contact := opt_id(data.get("contact"))):
                found[opportunity] = contact
        return found

    def present(self, write: Write) -> str | None:
        opportunity = write.application_ext
        if write.action == "tag":
            data = self._get(f"/opportunities/{opportunity}").get("data")
            tags = data.get("tags") if isinstance(data, dict) else None
            return "present" if isinstance(tags, list) and self._tag_name in tags else None
        if write.action == "prospect":
            if write.person_ext is None:
                raise Unwritable("lever: the person's contact is unknown")
            query = {"contact_id": write.person_ext, "posting_id": write.job_ext, "expand": "applications",
                     "limit": 100}
            # The shared pager refuses a reply without a data list or a repeated token: read as "none
            # there", either would make a second opportunity for the person.
            for page in pages(self._http, f"{self.base_url}/opportunities", query, auth=self._auth):
                for opp in page:
                    if isinstance(opp, dict) and write.job_ext in posting_ids(opp):
                        return opt_id(opp.get("id")) or "present"
            return None
        notes = self._get(f"/opportunities/{opportunity}/notes").get("data")
        for note in notes if isinstance(notes, list) else []:
            fields = [f for f in note.get("fields") or [] if isinstance(f, dict)]
            texts = [str(note.get("value") or ""), *(str(f.get("value") or "") for f in fields)]
            if any(marker(write.key) in t for t in texts):
                return opt_id(note.get("id")) or "present"
        return None

    def write(self, write: Write) -> str:
        opportunity = write.application_ext
        if write.action == "tag":
            self._post(f"/opportunities/{opportunity}/addTags", {"tags": [self._tag_name]})
            return "tag"
        if write.action == "prospect":
            if not write.email:
                raise Unwritable("lever: no e-mail address to link the new opportunity to the person")
            # Lever links an opportunity to the contact with the same address; `sourced` with the
            # posting puts it in that posting's pipeline as a lead. Nothing here makes Lever send mail.
            data = self._post("/opportunities", {"emails": [write.email], "postings": [write.job_ext],
                                                 "origin": "sourced", "sources": ["Junkan"],
                                                 "tags": [self._tag_name]})
            made = opt_id(data.get("id")) if isinstance(data, dict) else None
            if made is None:
                raise HttpError("lever POST /opportunities: the reply carries no id",
                                vendor=self._http.vendor)
            return made
        data = self._post(f"/opportunities/{opportunity}/notes", {"value": write.text})
        made = opt_id(data.get("noteId")) if isinstance(data, dict) else None
        return made or "note"


def _person(write: Write) -> str:
    if write.person_ext is None:
        raise Unwritable("greenhouse: the application's candidate is unknown to Greenhouse")
    return write.person_ext
