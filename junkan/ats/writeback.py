"""Writing re-contact results into Greenhouse Harvest v3 and Lever v1 (docs/pool.md "Write-back").

Each writer answers three questions for one planned write: who is the person in the ATS (`resolve`),
is the write already there (`present`, for a write a crash may have interrupted), and write it (`write`,
returning the ATS's id of what it made). Neither ATS takes an idempotency key, so notes carry our opaque
key as their last line and `present` looks for it; a tag is present when the person has it.

Greenhouse (OAuth client credentials, as for ingest): the tag is created once
(`POST /v3/candidate_tags`) and applied (`POST /v3/applied_candidate_tags`); notes are `POST /v3/notes`
with type NOTE on the candidate; a prospect is `POST /v3/applications` with `prospect: true`. No call
carries a rejection e-mail option: Junkan sends its own mail, exactly once.
Lever (API key): `POST /opportunities/:id/addTags` and `POST /opportunities/:id/notes`, each with
`perform_as`; Lever's new-opportunity write is not offered (it would need the person's contact data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

from junkan.ats.greenhouse import CANDIDATE_BATCH, MAX_PER_PAGE
from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.ats.values import opt_id
from junkan.batching import batched
from junkan.http import HttpError, RetryingClient, decode_json, next_link


@dataclass(frozen=True, slots=True)
class Write:
    """One planned write, as the writer needs it: ids of the ATS and the text, no name, no address."""

    key: str
    action: str
    #: The ATS's id of the application the write is about (Lever: the opportunity).
    application_ext: str
    #: The ATS's id of the person (Greenhouse candidate); None until resolved.
    person_ext: str | None
    job_ext: str
    text: str


class AtsWriter(Protocol):
    #: Actions this ATS can take (a Lever new opportunity is not one).
    actions: frozenset[str]

    def resolve(self, application_exts: Iterable[str]) -> dict[str, str]: ...

    def present(self, write: Write) -> str | None: ...

    def write(self, write: Write) -> str: ...

    def close(self) -> None: ...


def marker(key: str) -> str:
    """The last line of every note we write: how a re-run recognises it."""
    return f"[junkan:{key}]"


def _num(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class GreenhouseWriter:
    actions = frozenset({"tag", "note", "prospect", "reapplied_note"})

    def __init__(self, client: RetryingClient, *, base_url: str, auth: GreenhouseAuth, user_id: str,
                 tag_name: str) -> None:
        self._http = client
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._user_id = user_id
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
            applied = self._list("/v3/applied_candidate_tags", {"candidate_id": person})
            hit = [a for a in applied if opt_id(a.get("candidate_tag_id")) == tag]
            return (opt_id(hit[0].get("id")) or "present") if hit else None
        if write.action == "prospect":
            apps = self._list("/v3/applications", {"candidate_ids": person, "job_id": write.job_ext})
            return (opt_id(apps[0].get("id")) or "present") if apps else None
        notes = self._list("/v3/notes", {"candidate_id": person})
        hit = [n for n in notes if marker(write.key) in str(n.get("body") or "")]
        return (opt_id(hit[0].get("id")) or "present") if hit else None

    def write(self, write: Write) -> str:
        person = _num(_person(write))
        if write.action == "tag":
            return self._post("/v3/applied_candidate_tags",
                              {"candidate_id": person, "candidate_tag_id": _num(self._tag())})
        if write.action == "prospect":
            return self._post("/v3/applications",
                              {"candidate_id": person, "job_id": _num(write.job_ext), "prospect": True})
        return self._post("/v3/notes", {"candidate_id": person, "user_id": _num(self._user_id),
                                        "body": write.text, "type": "NOTE", "visibility": "public"})


class LeverWriter:
    actions = frozenset({"tag", "note", "reapplied_note"})

    def __init__(self, client: RetryingClient, *, base_url: str, api_key: str, perform_as: str,
                 tag_name: str) -> None:
        self._http = client
        self.base_url = base_url.rstrip("/")
        self._auth = (api_key, "")
        self._perform_as = perform_as
        self._tag_name = tag_name

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str) -> Any:
        response = self._http.request("GET", f"{self.base_url}{path}", auth=self._auth)
        body = decode_json(response, self._http.vendor)
        return body.get("data") if isinstance(body, dict) else None

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self._http.request("POST", f"{self.base_url}{path}", json_body=body, auth=self._auth,
                                      params={"perform_as": self._perform_as})
        reply = decode_json(response, self._http.vendor)
        return reply.get("data") if isinstance(reply, dict) else None

    def resolve(self, application_exts: Iterable[str]) -> dict[str, str]:
        # Lever's tags and notes live on the opportunity, which is what ingest keeps as the application.
        return {a: a for a in application_exts}

    def present(self, write: Write) -> str | None:
        opportunity = write.application_ext
        if write.action == "tag":
            data = self._get(f"/opportunities/{opportunity}")
            tags = data.get("tags") if isinstance(data, dict) else None
            return "present" if isinstance(tags, list) and self._tag_name in tags else None
        notes = self._get(f"/opportunities/{opportunity}/notes")
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
        data = self._post(f"/opportunities/{opportunity}/notes", {"value": write.text})
        made = opt_id(data.get("noteId")) if isinstance(data, dict) else None
        return made or "note"


def _person(write: Write) -> str:
    if write.person_ext is None:
        raise HttpError("greenhouse: the application's candidate is unknown to Greenhouse",
                        vendor="greenhouse", status=404)
    return write.person_ext
