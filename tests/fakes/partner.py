"""A career partner's referral API (`GET /v1/referrals`) on a pytest-httpserver, as junkan/partner/http.py
reads it: Bearer token, `since` (ISO UTC), `{"items": [...], "next": cursor | null}` pages, and the shared
seeded fault injection (429 + Retry-After, 5xx) of tests/fakes/_common.py.

    fake = PartnerFake(httpserver, registrations=lambda: [{"ref_code": ..., "status": "registered",
                                                           "occurred_at": "2026-11-02T01:00:00Z"}])
    monkeypatch.setenv for each item of fake.env()

`registrations` is called on every first page, so what the partner reports can follow what was mailed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Unpack

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes._common import FakeOptions, VendorFake, decode_token, encode_token, json_response

PAGE_SIZE = 50


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class PartnerFake(VendorFake):
    def __init__(
        self,
        server: HTTPServer,
        registrations: Callable[[], list[dict[str, Any]]],
        *,
        token: str = "partner-token",
        name: str = "careerrelay",
        prefix: str = "/partner",
        **options: Unpack[FakeOptions],
    ) -> None:
        super().__init__(server, prefix=prefix, **options)
        self.registrations = registrations
        self.token = token
        self.name = name
        self.route("/v1/referrals", self._referrals)

    def env(self) -> dict[str, str]:
        return {
            "JUNKAN_PARTNER__NAME": self.name,
            "JUNKAN_PARTNER__KIND": "http",
            "JUNKAN_PARTNER__BASE_URL": self.base_url,
            "JUNKAN_PARTNER__TOKEN": self.token,
        }

    def _referrals(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"error": "unauthorized"}, 401)
        since = request.args.get("since")
        if since is None:
            return json_response({"error": "since is required"}, 400)
        cursor = request.args.get("cursor")
        if cursor is None:
            items = sorted((i for i in self.registrations() if _when(i["occurred_at"]) >= _when(since)),
                           key=lambda i: (i["occurred_at"], i["ref_code"], i["status"]))
            offset = 0
        else:
            state = decode_token(cursor)
            if state is None:
                return json_response({"error": "invalid cursor"}, 422)
            items, offset = state["items"], state["o"]
        page = items[offset:offset + PAGE_SIZE]
        rest = offset + PAGE_SIZE < len(items)
        # The cursor carries the whole answer, so later pages do not change under the client.
        nxt = encode_token({"items": items, "o": offset + PAGE_SIZE}) if rest else None
        return json_response({"items": page, "next": nxt})
