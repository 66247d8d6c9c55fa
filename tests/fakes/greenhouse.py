"""A Greenhouse Harvest v3 fake on a pytest-httpserver, built from the contract in
docs/ingest.md "The ATS APIs".

    fake = GreenhouseFake(httpserver, applications=[...], candidates=[...], jobs=[...], clock=clock)
    adapter = GreenhouseAdapter(client_for("greenhouse", clock), **fake.adapter_kwargs())
    # or, for flows: monkeypatch.setenv for each item of fake.env()

It implements what a client can get wrong: the client-credentials token (Basic auth, form body, expiry,
revocation), bare-array lists with `Link` cursor pagination where the follow-up request must carry only
`cursor` (422 otherwise), `per_page` ≤ 500, `ids` and `updated_at=gte|...` filters, optional rate-limit
headers and seeded fault injection (a fraction of requests answered 429 + Retry-After or 5xx).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes._common import FakeOptions, Handler, VendorFake, decode_token, encode_token, json_response

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100
_DATE_OPS = ("gte", "gt", "lte", "lt")
# Filters each list accepts besides per_page/cursor; anything else is a 422 as in the real API. A filter
# on another resource's id is plural (`candidate_ids`): Harvest v3 answers `candidate_id` with 422.
_FILTERS: dict[str, set[str]] = {
    "applications": {"ids", "updated_at", "created_at", "status", "job_ids", "candidate_ids"},
    "candidates": {"ids", "updated_at", "created_at"},
    "jobs": {"ids", "updated_at", "created_at", "status"},
    "openings": {"ids", "updated_at", "created_at", "job_ids"},
    "job_posts": {"ids", "updated_at", "created_at", "job_ids", "live"},
    "rejection_reasons": {"ids"},
    "candidate_tags": {"ids"},
    "applied_candidate_tags": {"ids", "candidate_ids", "candidate_tag_ids"},
    "notes": {"ids", "candidate_ids", "application_ids"},
}
#: Cross-reference filters and the field of the item each one matches.
_CROSS_FILTERS = {"candidate_ids": "candidate_id", "job_ids": "job_id",
                  "candidate_tag_ids": "candidate_tag_id", "application_ids": "application_id"}
#: Write endpoints and the scope each needs (a Harvest v3 credential carries the scopes granted to it, one
#: per endpoint and verb); every list needs `harvest:<resource>:list`.
WRITE_SCOPES = {
    "candidate_tags": "harvest:candidate_tags:create",
    "applied_candidate_tags": "harvest:applied_candidate_tags:create",
    "notes": "harvest:notes:create",
    "applications": "harvest:applications:create",
}
#: Body fields each write accepts, and those it requires; anything else (say, a rejection e-mail option)
#: is a 422. A note's author is the token's `sub` user, not a body field.
_WRITE_FIELDS = {
    "candidate_tags": ({"name"}, {"name"}),
    "applied_candidate_tags": ({"candidate_id", "candidate_tag_id"}, {"candidate_id", "candidate_tag_id"}),
    "notes": ({"candidate_id", "application_id", "body", "note_type", "visibility"},
              {"candidate_id", "body", "note_type"}),
    "applications": ({"candidate_id", "job_id", "job_ids", "prospect", "source_id", "referrer_id",
                      "recruiter_id", "coordinator_id", "initial_stage_id", "prospect_pool_id",
                      "prospect_pool_stage_id", "prospect_owner_id"}, {"candidate_id"}),
}
#: Every scope this fake knows: the write scopes above and `harvest:<resource>:list` for each list.
ALL_SCOPES = frozenset(WRITE_SCOPES.values()) | {f"harvest:{r}:list" for r in _FILTERS}
_NOTE_TYPES = {"NOTE", "ACTIVITY", "EMAIL"}
_VISIBILITIES = {"admin_only", "private", "public"}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_date_filter(value: str) -> list[tuple[str, datetime]]:
    """`gte|2026-11-01T00:00:00.000Z` or `gte|A|lte|B` -> [(op, when)]; ValueError when malformed."""
    parts = value.split("|")
    if len(parts) % 2 or not parts:
        raise ValueError(value)
    out = []
    for op, when in zip(parts[::2], parts[1::2], strict=True):
        if op not in _DATE_OPS:
            raise ValueError(op)
        out.append((op, _parse_time(when)))
    return out


def _date_ok(item_value: Any, conditions: list[tuple[str, datetime]]) -> bool:
    if not isinstance(item_value, str):
        return False
    when = _parse_time(item_value)
    for op, bound in conditions:
        if (op == "gte" and not when >= bound) or (op == "gt" and not when > bound) \
                or (op == "lte" and not when <= bound) or (op == "lt" and not when < bound):
            return False
    return True


@dataclass
class GreenhouseData:
    applications: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    openings: list[dict[str, Any]] = field(default_factory=list)
    rejection_reasons: list[dict[str, Any]] = field(default_factory=list)
    job_posts: list[dict[str, Any]] = field(default_factory=list)


DEFAULT_REASONS: list[dict[str, Any]] = [
    {"id": 9001, "name": "Lacking skill(s)/qualification(s)", "type": "We rejected them"},
    {"id": 9002, "name": "Hired another candidate", "type": "We rejected them"},
    {"id": 9003, "name": "Position filled", "type": "We rejected them"},
    {"id": 9004, "name": "Spam", "type": "We rejected them"},
    {"id": 9005, "name": "Took another offer", "type": "They rejected us"},
    {"id": 9006, "name": "Other", "type": "None specified"},
]


def sample_data(
    n_applications: int = 50,
    *,
    seed: int = 1,
    n_jobs: int = 5,
    start: datetime = datetime(2026, 10, 1, tzinfo=UTC),
    prospect_every: int = 0,
) -> GreenhouseData:
    """A deterministic company: jobs, openings, reasons, one candidate per application (every 7th
    candidate applies twice), statuses spread over in_process/rejected/hired, timestamps a few hours apart.
    """
    rng = random.Random(seed)
    jobs = [
        {"id": 4000 + j, "name": f"Engineer {j}", "status": "open" if j % 3 else "closed",
         "departments": [{"id": 77, "name": "Engineering"}],
         "opened_at": iso(start - timedelta(days=30 + j)), "closed_at": None,
         "created_at": iso(start - timedelta(days=40 + j)),
         "notes": f"社内メモ {j}",
         "offices": [{"id": 88, "name": "東京オフィス", "location": {"name": "東京都"}}],
         "keyed_custom_fields": {
             "required_skills": {"name": "Required skills", "type": "multi_select",
                                 "value": ["Python", "SQL"] if j % 2 else ["Go", "AWS"]},
             "preferred_skills": {"name": "Preferred skills", "type": "short_text",
                                  "value": "Docker、Kubernetes"},
         }}
        for j in range(n_jobs)
    ]
    job_posts = [
        {"id": 6000 + j, "job_id": job["id"], "title": job["name"], "live": True, "internal": False,
         "content": f"&lt;p&gt;{job['name']} の募集です。&lt;/p&gt;"
                    "&lt;ul&gt;&lt;li&gt;API 開発&lt;/li&gt;&lt;/ul&gt;"}
        for j, job in enumerate(jobs)
    ]
    openings = [
        {"id": 5000 + j, "job_id": job["id"], "open": job["status"] == "open",
         "opened_at": job["opened_at"], "closed_at": None if job["status"] == "open" else iso(start)}
        for j, job in enumerate(jobs)
    ]
    candidates: list[dict[str, Any]] = []
    applications: list[dict[str, Any]] = []
    family = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤"]
    given = ["太郎", "花子", "一郎", "美咲", "健", "由美"]
    for i in range(n_applications):
        reuse = i % 7 == 6 and candidates
        if reuse:
            candidate = candidates[-1]
        else:
            cid = 100_000 + i
            candidate = {
                "id": cid,
                "first_name": rng.choice(given),
                "last_name": rng.choice(family),
                "email_addresses": [{"value": f"cand{cid}@example.jp", "type": "personal"}],
                "phone_numbers": [{"value": f"090-{cid % 10000:04d}-{i % 10000:04d}", "type": "mobile"}],
                "tags": ["newgrad"] if i % 2 else [],
                "can_email": i % 11 != 0,
            }
            candidates.append(candidate)
        created = start + timedelta(hours=3 * i)
        roll = rng.random()
        status = "active" if roll < 0.3 else ("hired" if roll < 0.4 else "rejected")
        app: dict[str, Any] = {
            "id": 200_000 + i,
            "candidate_id": candidate["id"],
            "job_id": jobs[i % n_jobs]["id"],
            "status": status,
            "prospect": bool(prospect_every and i % prospect_every == 0),
            "stage_name": rng.choice(["Application Review", "Phone Screen", "Face to Face", "Offer"]),
            "created_at": iso(created),
            "updated_at": iso(created + timedelta(hours=2)),
            "last_activity_at": iso(created + timedelta(hours=2)),
            "rejected_at": None,
            "rejection_reason_id": None,
        }
        if status == "rejected":
            app["rejected_at"] = iso(created + timedelta(hours=1))
            app["rejection_reason_id"] = rng.choice(DEFAULT_REASONS)["id"]
        applications.append(app)
    return GreenhouseData(applications, candidates, jobs, openings, [dict(r) for r in DEFAULT_REASONS],
                          job_posts)


class GreenhouseFake(VendorFake):
    def __init__(
        self,
        server: HTTPServer,
        data: GreenhouseData | None = None,
        *,
        client_id: str = "gh-client",
        client_secret: str = "gh-secret",
        user_id: str = "4711",
        token_ttl_s: float = 3600.0,
        prefix: str = "",
        **options: Unpack[FakeOptions],
    ) -> None:
        super().__init__(server, prefix=prefix, **options)
        data = data or GreenhouseData()
        self.resources: dict[str, list[dict[str, Any]]] = {
            "applications": list(data.applications),
            "candidates": list(data.candidates),
            "jobs": list(data.jobs),
            "openings": list(data.openings),
            "job_posts": list(data.job_posts),
            "rejection_reasons": list(data.rejection_reasons) or [dict(r) for r in DEFAULT_REASONS],
            "candidate_tags": [],
            "applied_candidate_tags": [],
            "notes": [],
        }
        #: Scopes the credentials were granted; None grants every scope.
        self.scopes: set[str] | None = None
        #: JSON bodies of every write that was accepted, by resource.
        self.written: dict[str, list[dict[str, Any]]] = {r: [] for r in WRITE_SCOPES}
        self._next_id = 900_000
        self.client_id = client_id
        self.client_secret = client_secret
        self.user_id = user_id
        self.token_ttl_s = token_ttl_s
        self.tokens: dict[str, float] = {}
        #: The user (`sub`) each token was issued for: the author of what is written with it.
        self.token_users: dict[str, str] = {}
        self._token_seq = 0
        self._install()

    # -- configuration helpers for tests ------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        return self.server.url_for(f"{self.prefix}/auth")

    def adapter_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "auth_url": self.auth_url, "client_id": self.client_id,
                "client_secret": self.client_secret, "user_id": self.user_id}

    def env(self) -> dict[str, str]:
        """The JUNKAN_* variables that point Junkan at this fake (as an operator would set them)."""
        return {
            "JUNKAN_ATS__KIND": "greenhouse",
            "JUNKAN_ATS__BASE_URL": self.base_url,
            "JUNKAN_ATS__AUTH_URL": self.auth_url,
            "JUNKAN_ATS__CLIENT_ID": self.client_id,
            "JUNKAN_ATS__CLIENT_SECRET": self.client_secret,
            "JUNKAN_ATS__USER_ID": self.user_id,
        }

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, so the next API call answers 401 as after a revocation."""
        with self._lock:
            self.tokens.clear()

    # -- handlers -----------------------------------------------------------------------------------

    def _install(self) -> None:
        self.route("/auth/token", self._token, method="POST", rate_limited=False)
        for resource in self.resources:
            self.route(f"/v3/{resource}", self._authorized(lambda req, r=resource: self._list(req, r)))
        for resource in WRITE_SCOPES:
            self.route(f"/v3/{resource}", self._authorized(lambda req, r=resource: self._create(req, r)),
                       method="POST")

    def _refused(self, body: dict[str, Any], resource: str) -> Response | None:
        """Harvest's 422/404 for a write body: unknown or missing fields, bad values, ids that do not
        exist (or do not belong together)."""
        allowed, required = _WRITE_FIELDS[resource]
        unknown, missing = set(body) - allowed, required - set(body)
        if unknown or missing:
            problem = (f"unknown field(s): {sorted(unknown)}" if unknown
                       else f"missing field(s): {sorted(missing)}")
            return json_response({"errors": [{"message": problem}]}, 422)
        candidates = {c.get("id") for c in self.resources["candidates"]}
        if "candidate_id" in body and body["candidate_id"] not in candidates:
            return json_response({"errors": [{"message": "candidate not found"}]}, 404)
        problem = None
        if resource == "applied_candidate_tags":
            if body["candidate_tag_id"] not in {t["id"] for t in self.resources["candidate_tags"]}:
                return json_response({"errors": [{"message": "candidate tag not found"}]}, 404)
        elif resource == "candidate_tags":
            if any(t["name"] == body["name"] for t in self.resources["candidate_tags"]):
                problem = "name has already been taken"
        elif resource == "notes":
            apps = {a["id"]: a for a in self.resources["applications"]}
            if body["note_type"] not in _NOTE_TYPES:
                problem = f"note_type must be one of {sorted(_NOTE_TYPES)}"
            elif body.get("visibility", "private") not in _VISIBILITIES:
                problem = f"visibility must be one of {sorted(_VISIBILITIES)}"
            elif "application_id" in body and apps.get(body["application_id"], {}).get("candidate_id") \
                    != body["candidate_id"]:
                problem = "application_id does not belong to the candidate"
        elif resource == "applications":
            jobs = {j["id"] for j in self.resources["jobs"]}
            if body.get("prospect") is True:
                wanted = body.get("job_ids", [])
                if "job_id" in body:
                    problem = "a prospect application takes job_ids, not job_id"
                elif not isinstance(wanted, list) or not set(wanted) <= jobs:
                    problem = "job_ids must list existing jobs"
            elif body.get("job_id") not in jobs or "job_ids" in body:
                problem = "a candidate application takes one existing job_id"
        return json_response({"errors": [{"message": problem}]}, 422) if problem else None

    def _create(self, request: Request, resource: str) -> Response:
        """A write as Harvest v3 answers it: the scope, a JSON body with known fields only, the ids it
        names must exist; 201 with the new object."""
        scope = WRITE_SCOPES[resource]
        if self.scopes is not None and scope not in self.scopes:
            return json_response({"message": f"Missing scope: {scope}"}, 403)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"errors": [{"message": "the body must be a JSON object"}]}, 400)
        refused = self._refused(body, resource)
        if refused is not None:
            return refused
        self._next_id += 1
        now = iso(datetime.fromtimestamp(self.clock(), UTC))
        item = {"id": self._next_id, **body, "created_at": now, "updated_at": now}
        if resource == "applications":
            item.update({"status": "active", "prospect": body.get("prospect") is True})
        if resource == "notes":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            item["type"] = item.pop("note_type")
            item.update({"visibility": body.get("visibility", "private"), "user_id": self.token_users[token]})
        self.resources[resource].append(item)
        self.written[resource].append(body)
        return json_response(item, 201)

    def _token(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or auth.type != "basic" or auth.username != self.client_id \
                or auth.password != self.client_secret:
            return json_response({"error": "invalid_client"}, 401)
        if request.form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if request.form.get("sub") != self.user_id:
            return json_response({"error": "invalid_request", "error_description": "unknown sub"}, 400)
        self._token_seq += 1
        token = f"gh-token-{self._token_seq}"
        expires = self.clock() + self.token_ttl_s
        self.tokens[token] = expires
        self.token_users[token] = str(request.form.get("sub"))
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_at": iso(expires_at)})

    def _authorized(self, handler: Handler) -> Handler:
        def run(request: Request) -> Response:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return json_response({"message": "Missing bearer token"}, 401)
            expires = self.tokens.get(header.removeprefix("Bearer "))
            if expires is None or self.clock() >= expires:
                return json_response({"message": "Token expired or invalid"}, 401)
            return handler(request)
        return run

    def _list(self, request: Request, resource: str) -> Response:
        scope = f"harvest:{resource}:list"
        if self.scopes is not None and scope not in self.scopes:
            return json_response({"message": f"Missing scope: {scope}"}, 403)
        args = {key: request.args.getlist(key) for key in request.args}
        if "cursor" in args:
            if set(args) != {"cursor"}:
                extra = ", ".join(sorted(set(args) - {"cursor"}))
                message = f"cursor must be the only query parameter (got {extra})"
                return json_response({"message": message}, 422)
            state = decode_token(args["cursor"][0])
            if state is None or state.get("r") != resource:
                return json_response({"message": "invalid cursor"}, 422)
            filters, per_page, offset = state["f"], state["n"], state["o"]
        else:
            unknown = set(args) - _FILTERS[resource] - {"per_page"}
            if unknown:
                return json_response({"message": f"Invalid query params: {', '.join(sorted(unknown))}"}, 422)
            if any(len(v) > 1 for v in args.values()):
                return json_response({"message": "repeated query parameter"}, 422)
            filters = {k: v[0] for k, v in args.items() if k != "per_page"}
            try:
                per_page = int(args.get("per_page", [str(DEFAULT_PER_PAGE)])[0])
            except ValueError:
                return json_response({"message": "per_page must be an integer"}, 422)
            if not 1 <= per_page <= MAX_PER_PAGE:
                return json_response({"message": f"per_page must be between 1 and {MAX_PER_PAGE}"}, 422)
            offset = 0
        try:
            items = self._filter(resource, filters)
        except ValueError as exc:
            return json_response({"message": f"invalid filter: {exc}"}, 422)
        page = items[offset:offset + per_page]
        headers = {}
        if offset + per_page < len(items):
            cursor = encode_token({"r": resource, "f": filters, "n": per_page, "o": offset + per_page})
            next_url = f"{request.host_url.rstrip('/')}{self.prefix}/v3/{resource}?cursor={cursor}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return json_response(page, 200, headers)

    def _filter(self, resource: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        items = self.resources[resource]
        if "ids" in filters:
            wanted = {s.strip() for s in filters["ids"].split(",") if s.strip()}
            if not all(s.isdigit() for s in wanted):
                raise ValueError("ids must be integers")
            items = [i for i in items if str(i.get("id")) in wanted]
        for name, item_field in _CROSS_FILTERS.items():
            if name in filters:
                wanted = {s.strip() for s in filters[name].split(",")}
                items = [i for i in items
                         if {str(v) for v in [i.get(item_field), *(i.get(name) or [])]} & wanted]
        if "status" in filters:
            items = [i for i in items if i.get("status") == filters["status"]]
        for date_field in ("updated_at", "created_at"):
            if date_field in filters:
                conditions = _parse_date_filter(filters[date_field])
                items = [i for i in items if _date_ok(i.get(date_field), conditions)]
        return sorted(items, key=lambda i: (str(type(i.get("id"))), i.get("id") or 0))
