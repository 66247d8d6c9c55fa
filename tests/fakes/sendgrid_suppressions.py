"""A local fake of SendGrid's suppression endpoints, served by pytest-httpserver
(docs/engagement.md "`sync-email-events`").

It answers as the official spec (`contracts/sendgrid/tsg_suppressions_v3.yaml`) describes: Bearer key check
(401 with `{"errors": [...]}`), `start_time`/`end_time` inclusive filters on `created`, `limit` within the
spec's bounds (1–500, else 400) and `offset` paging, newest first; the ASM group endpoint returns a plain
list of strings. Faults can be queued per path (`fail_next`), and every request is recorded.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes._common import json_response

SPEC = Path(__file__).parent / "contracts" / "sendgrid" / "tsg_suppressions_v3.yaml"
API_KEY = "SG.fake-suppressions-key"
LIST_PATHS = {
    "bounces": "/v3/suppression/bounces",
    "blocks": "/v3/suppression/blocks",
    "spam_reports": "/v3/suppression/spam_reports",
    "invalid_emails": "/v3/suppression/invalid_emails",
    "unsubscribes": "/v3/suppression/unsubscribes",
}


@cache
def limit_bounds() -> tuple[int, int]:
    """The page-size bounds the official spec gives for these endpoints."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schema = spec["components"]["parameters"]["PaginationCommonLimit"]["schema"]
    return schema["minimum"], schema["maximum"]


@dataclass
class Seen:
    path: str
    args: dict[str, str]
    authorization: str | None
    status: int


@dataclass
class SuppressionFake:
    server: HTTPServer
    api_key: str = API_KEY
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in LIST_PATHS})
    groups: dict[int, list[str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    _faults: dict[str, deque[tuple[int, dict[str, str]]]] = field(default_factory=lambda: defaultdict(deque))

    def __post_init__(self) -> None:
        for name, path in LIST_PATHS.items():
            self.server.expect_request(path, method="GET").respond_with_handler(
                self._answered(partial(self._list, name)))

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def add(self, name: str, email: str, created: int, **extra: Any) -> None:
        self.lists[name].append({"created": created, "email": email, **extra})

    def set_group(self, group_id: int, emails: list[str]) -> None:
        """Serve `GET /v3/asm/groups/{group_id}/suppressions` with these addresses."""
        if group_id not in self.groups:
            self.server.expect_request(f"/v3/asm/groups/{group_id}/suppressions", method="GET"
                                       ).respond_with_handler(self._answered(partial(self._group, group_id)))
        self.groups[group_id] = list(emails)

    def fail_next(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        self._faults[path].append((status, headers or {}))

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- handlers ---------------------------------------------------------------------------------------
    def _check(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return json_response({"errors": [{"field": None, "message": "authorization required"}]}, 401)
        queued = self._faults.get(request.path)
        if queued:
            status, headers = queued.popleft()
            return json_response({"errors": [{"field": None, "message": "injected fault"}]}, status, headers)
        return None

    def _record(self, request: Request, response: Response) -> Response:
        self.requests.append(Seen(request.path, dict(request.args), request.headers.get("Authorization"),
                                  response.status_code))
        return response

    def _answered(self, answer: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """`answer` behind the key check and the queued faults; every request is recorded with its status."""
        def handle(request: Request) -> Response:
            error = self._check(request)
            return self._record(request, error if error is not None else answer(request))

        return handle

    def _list(self, name: str, request: Request) -> Response:
        lo, hi = limit_bounds()
        try:
            limit = int(request.args.get("limit", hi))
            offset = int(request.args.get("offset", 0))
            start = int(request.args["start_time"]) if "start_time" in request.args else None
            end = int(request.args["end_time"]) if "end_time" in request.args else None
        except ValueError:
            return json_response({"errors": [{"field": "query", "message": "bad"}]}, 400)
        if not lo <= limit <= hi or offset < 0:
            return json_response({"errors": [{"field": "limit", "message": "bad"}]}, 400)
        rows = [r for r in self.lists[name]
                if (start is None or r["created"] >= start) and (end is None or r["created"] <= end)]
        rows.sort(key=lambda r: (-r["created"], r["email"]))
        return json_response(rows[offset:offset + limit])

    def _group(self, group_id: int, request: Request) -> Response:
        return json_response(self.groups.get(group_id, []))
