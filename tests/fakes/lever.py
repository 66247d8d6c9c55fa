"""A Lever v1 fake on a pytest-httpserver, built from the contract in docs/ingest.md "The ATS APIs".

    fake = LeverFake(httpserver, opportunities=[...], archive_reasons=[...], postings=[...], clock=clock)
    adapter = LeverAdapter(client_for("lever", clock), **fake.adapter_kwargs())

Basic auth (API key as user, blank password), `{"data", "hasNext", "next"}` envelopes with opaque
offset tokens, `updated_at_start` (epoch ms), `contact_id`, `posting_id` and `email` filtering, `limit`
≤ 100, `state=published` postings, and the same seeded fault injection and rate limiting as the Greenhouse
fake. Writes (`addTags`, notes, a new opportunity) need `perform_as` naming a Lever user and answer
`{"code", "message"}` errors as Lever does (`BadRequestError: Missing required parameter: perform_as`).
A new opportunity is linked to the contact whose e-mail address it gives (Lever's dedupe), else to a new
contact; it takes at most one posting.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes._common import FakeOptions, Handler, VendorFake, decode_token, encode_token, json_response

MAX_LIMIT = 100
#: Fields `POST /opportunities` accepts (Lever v1 "Create an opportunity"); anything else is a 400.
_OPPORTUNITY_FIELDS = {"name", "headline", "stage", "location", "phones", "emails", "links", "tags",
                       "sources", "origin", "owner", "followers", "postings", "createdAt", "archived"}
_ORIGINS = {"agency", "applied", "internal", "referred", "sourced", "university"}

DEFAULT_ARCHIVE_REASONS: list[dict[str, Any]] = [
    {"id": "ar-hired", "text": "Hired", "status": "active", "type": "hired"},
    {"id": "ar-underqualified", "text": "Underqualified", "status": "active", "type": "non-hired"},
    {"id": "ar-timing", "text": "Timing", "status": "active", "type": "non-hired"},
    {"id": "ar-filled", "text": "Position filled", "status": "active", "type": "non-hired"},
    {"id": "ar-withdrew", "text": "Withdrew", "status": "active", "type": "non-hired"},
]


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@dataclass
class LeverData:
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    archive_reasons: list[dict[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)


def sample_data(n_opportunities: int = 30, *, seed: int = 1, n_postings: int = 4,
                start: datetime = datetime(2026, 10, 1, tzinfo=UTC)) -> LeverData:
    rng = random.Random(seed)
    postings = [
        {"id": f"post-{p}", "text": f"Designer {p}", "state": "published" if p % 2 == 0 else "closed",
         "categories": {"team": "Design", "department": "Product", "location": "東京",
                        "commitment": "正社員"},
         "tags": ["Figma", "UIデザイン"],
         "content": {"description": f"<p>Designer {p} を募集します。</p>",
                     "descriptionPlain": f"Designer {p} を募集します。",
                     "lists": [{"text": "必須要件", "content": "<li>Figma の実務経験</li>"}]},
         "createdAt": ms(start - timedelta(days=20)),
         "updatedAt": ms(start - timedelta(days=2))}
        for p in range(n_postings)
    ]
    opportunities = []
    for i in range(n_opportunities):
        created = start + timedelta(hours=5 * i)
        roll = rng.random()
        archived = None
        if roll >= 0.3:
            reason = rng.choice(DEFAULT_ARCHIVE_REASONS)
            archived = {"archivedAt": ms(created + timedelta(hours=1)), "reason": reason["id"]}
        opportunities.append({
            "id": f"opp-{i:05d}",
            "name": f"候補者 {i}",
            "contact": f"contact-{i:05d}",
            "emails": [f"opp{i}@example.jp"],
            "phones": [{"type": "mobile", "value": f"080-1111-{i:04d}"}],
            "tags": ["referral"] if i % 3 == 0 else [],
            "stage": "lead-new" if archived is None else "offer",
            "archived": archived,
            "applications": [{"id": f"app-{i:05d}", "posting": postings[i % n_postings]["id"]}],
            "createdAt": ms(created),
            "updatedAt": ms(created + timedelta(hours=2)),
        })
    return LeverData(opportunities, [dict(r) for r in DEFAULT_ARCHIVE_REASONS], postings)


class LeverFake(VendorFake):
    def __init__(
        self,
        server: HTTPServer,
        data: LeverData | None = None,
        *,
        api_key: str = "lever-key",
        prefix: str = "/v1",
        **options: Unpack[FakeOptions],
    ) -> None:
        super().__init__(server, prefix=prefix, **options)
        data = data or LeverData()
        self.opportunities = list(data.opportunities)
        self.archive_reasons = list(data.archive_reasons) or [dict(r) for r in DEFAULT_ARCHIVE_REASONS]
        self.postings = list(data.postings)
        self.api_key = api_key
        #: Lever users a write may be performed as (`perform_as`).
        self.users: set[str] = {"user-recruiter"}
        #: Notes by opportunity id, and the bodies of every accepted write.
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.written: list[tuple[str, dict[str, Any]]] = []
        self._note_seq = 0
        self._opp_seq = 0
        for path, handler in (("/opportunities", self._opportunities), ("/archive_reasons", self._reasons),
                              ("/postings", self._postings)):
            self.route(path, self._authorized(handler))
        self.route("/opportunities", self._authorized(self._create_opportunity), method="POST")
        one = rf"{re.escape(self.prefix)}/opportunities/(?P<id>[^/]+)"
        for pattern, method, handler in ((one + "$", "GET", self._opportunity),
                                         (one + "/notes$", "GET", self._list_notes),
                                         (one + "/notes$", "POST", self._add_note),
                                         (one + "/addTags$", "POST", self._add_tags)):
            server.expect_request(re.compile(pattern), method=method).respond_with_handler(
                self.guarded(self._authorized(handler)))

    # -- one opportunity, and the writes Lever v1 documents on it ----------------------------------

    def _find(self, request: Request) -> dict[str, Any] | None:
        found = re.search(r"/opportunities/([^/]+)", request.path)
        wanted = found.group(1) if found else ""
        return next((o for o in self.opportunities if str(o.get("id")) == wanted), None)

    def _not_found(self) -> Response:
        return json_response({"code": "ResourceNotFound", "message": "Opportunity not found"}, 404)

    @staticmethod
    def _bad(message: str) -> Response:
        return json_response({"code": "BadRequestError", "message": message}, 400)

    def _write_refused(self, request: Request) -> Response | None:
        """Writes need `perform_as` naming a Lever user, and a JSON object body."""
        user = request.args.get("perform_as")
        if not user:
            return self._bad("Missing required parameter: perform_as")
        if user not in self.users:
            return self._bad("perform_as: user not found")
        if not isinstance(request.get_json(silent=True), dict):
            return self._bad("body must be a JSON object")
        return None

    def _create_opportunity(self, request: Request) -> Response:
        """`POST /opportunities?perform_as=`: a new opportunity, linked to the contact with one of its
        e-mail addresses when there is one (Lever's dedupe), with at most one posting."""
        refused = self._write_refused(request)
        if refused is not None:
            return refused
        body = request.get_json()
        unknown = sorted(set(body) - _OPPORTUNITY_FIELDS)
        emails, postings = body.get("emails", []), body.get("postings", [])
        if unknown:
            return self._bad(f"Unknown field(s): {', '.join(unknown)}")
        if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
            return self._bad("emails must be a list of e-mail addresses")
        if not isinstance(postings, list) or len(postings) > 1:
            return self._bad("postings: only one posting can be specified per request")
        if postings and postings[0] not in {p.get("id") for p in self.postings}:
            return self._bad("postings: posting not found")
        if "origin" in body and body["origin"] not in _ORIGINS:
            return self._bad(f"origin must be one of {sorted(_ORIGINS)}")
        same = {e.casefold() for e in emails}
        known = next((o for o in self.opportunities
                      if same & {str(e).casefold() for e in o.get("emails") or []}), None)
        self._opp_seq += 1
        now = int(self.clock() * 1000)
        opp = {"id": f"opp-new-{self._opp_seq:05d}",
               "contact": known["contact"] if known else f"contact-new-{self._opp_seq:05d}",
               "name": body.get("name") or (known or {}).get("name"), "emails": emails,
               "tags": list(body.get("tags") or []), "sources": list(body.get("sources") or []),
               "origin": body.get("origin", "sourced"), "stage": "lead-new", "archived": None,
               "owner": request.args["perform_as"],
               "applications": [{"id": f"app-new-{self._opp_seq:05d}", "posting": p} for p in postings],
               "createdAt": now, "updatedAt": now}
        self.opportunities.append(opp)
        self.written.append(("opportunity", body))
        return json_response({"data": opp}, 201)

    def _writable(self, request: Request) -> dict[str, Any] | Response:
        """The opportunity a write is for, or Lever's answer refusing the write (unknown opportunity,
        missing or unknown `perform_as` user, no JSON object body)."""
        opp = self._find(request)
        if opp is None:
            return self._not_found()
        refused = self._write_refused(request)
        return opp if refused is None else refused

    def _opportunity(self, request: Request) -> Response:
        opp = self._find(request)
        return json_response({"data": opp}) if opp is not None else self._not_found()

    def _list_notes(self, request: Request) -> Response:
        opp = self._find(request)
        if opp is None:
            return self._not_found()
        return json_response({"data": self.notes.get(str(opp["id"]), []), "hasNext": False})

    def _add_note(self, request: Request) -> Response:
        opp = self._writable(request)
        if isinstance(opp, Response):
            return opp
        body = request.get_json()
        if not isinstance(body.get("value"), str) or not body["value"]:
            return self._bad("value is required")
        self._note_seq += 1
        note_id = f"note-{self._note_seq}"
        self.notes.setdefault(str(opp["id"]), []).append(
            {"id": note_id, "text": "", "fields": [{"type": "note", "value": body["value"]}],
             "user": request.args["perform_as"]})
        self.written.append(("note", body))
        return json_response({"data": {"noteId": note_id}}, 201)

    def _add_tags(self, request: Request) -> Response:
        opp = self._writable(request)
        if isinstance(opp, Response):
            return opp
        body = request.get_json()
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return self._bad("tags must be a list of strings")
        # Lever keeps a tag once however often it is added.
        opp["tags"] = list(dict.fromkeys([*(opp.get("tags") or []), *tags]))
        self.written.append(("addTags", body))
        return json_response({"data": opp}, 200)

    def adapter_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key}

    def env(self) -> dict[str, str]:
        return {"JUNKAN_ATS__KIND": "lever", "JUNKAN_ATS__BASE_URL": self.base_url,
                "JUNKAN_ATS__API_KEY": self.api_key}

    def _authorized(self, handler: Handler) -> Handler:
        def run(request: Request) -> Response:
            auth = request.authorization
            if auth is None or auth.type != "basic" or auth.username != self.api_key or auth.password:
                return json_response({"code": "Unauthorized", "message": "Invalid API key"}, 401)
            return handler(request)
        return run

    def _page(self, request: Request, items: list[dict[str, Any]], kind: str) -> Response:
        try:
            limit = int(request.args.get("limit", str(MAX_LIMIT)))
        except ValueError:
            return self._bad("limit must be an integer")
        if not 1 <= limit <= MAX_LIMIT:
            return self._bad(f"limit must be 1..{MAX_LIMIT}")
        offset = 0
        if "offset" in request.args:
            state = decode_token(request.args["offset"])
            if state is None or state.get("k") != kind:
                return self._bad("invalid offset")
            offset = int(state["o"])
        page = items[offset:offset + limit]
        body: dict[str, Any] = {"data": page, "hasNext": offset + limit < len(items)}
        if body["hasNext"]:
            body["next"] = encode_token({"k": kind, "o": offset + limit})
        return json_response(body)

    def _opportunities(self, request: Request) -> Response:
        items = self.opportunities
        if "updated_at_start" in request.args:
            try:
                start = int(request.args["updated_at_start"])
            except ValueError:
                return self._bad("updated_at_start: epoch ms")
            items = [o for o in items if isinstance(o.get("updatedAt"), int) and o["updatedAt"] >= start]
        if "contact_id" in request.args:
            items = [o for o in items if o.get("contact") == request.args["contact_id"]]
        if "email" in request.args:
            wanted = request.args["email"].casefold()
            items = [o for o in items if wanted in {str(e).casefold() for e in o.get("emails") or []}]
        if "posting_id" in request.args:
            items = [o for o in items if request.args["posting_id"] in postings_of(o)]
        if request.args.get("archived") == "true":
            items = [o for o in items if o.get("archived")]
        elif request.args.get("archived") == "false":
            items = [o for o in items if not o.get("archived")]
        items = sorted(items, key=lambda o: str(o.get("id")))
        return self._page(request, items, "opportunities")

    def _reasons(self, request: Request) -> Response:
        return self._page(request, self.archive_reasons, "archive_reasons")

    def _postings(self, request: Request) -> Response:
        items = self.postings
        if "state" in request.args:
            items = [p for p in items if p.get("state") == request.args["state"]]
        return self._page(request, items, "postings")


def postings_of(opp: dict[str, Any]) -> set[str]:
    """The postings an opportunity's applications are for."""
    out = set()
    for app in opp.get("applications") or []:
        posting = app.get("posting") if isinstance(app, dict) else None
        out.add(str(posting.get("id") if isinstance(posting, dict) else posting))
    return out
