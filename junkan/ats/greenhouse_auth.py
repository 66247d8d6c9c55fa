"""Greenhouse Harvest v3 authentication as an httpx.Auth flow: OAuth client credentials, refreshed in time.

`POST {auth_url}/token` with Basic client_id:client_secret and the form `grant_type=client_credentials&
sub=USER_ID` answers `access_token` and `expires_at`. The flow fetches a token when it has none or when it
is about to expire, sends the request with it, and on a 401 (revoked, or expired early) fetches one fresh
token and sends the request once more. A failing token request is handed back to the RetryingClient as the
response, so it is retried (5xx, 429) or reported (401: bad credentials) like any other call.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from junkan.http import HttpError, decode_json

VENDOR = "greenhouse"
#: Refresh this long before `expires_at`, so no request leaves with a token that dies in flight.
TOKEN_REFRESH_MARGIN_S = 60.0


def parse_expiry(body: dict[str, Any], now: float) -> float:
    """`expires_at` as epoch seconds: ISO 8601, epoch seconds or ms; else `expires_in`; else 1 h."""
    value = body.get("expires_at")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1000 if value > 1e12 else float(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            number = float(text)
            return number / 1000 if number > 1e12 else number
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.timestamp()
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        return now + float(expires_in)
    return now + 3600.0


class GreenhouseAuth(httpx.Auth):
    # The token reply must be read inside the flow.
    requires_response_body = True

    def __init__(
        self, *, auth_url: str, client_id: str, client_secret: str, user_id: str, clock: Callable[[], float]
    ) -> None:
        self.token_url = f"{auth_url.rstrip('/')}/token"
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {basic}"
        self._user_id = user_id
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        #: Tokens fetched so far, for the adapter's stats.
        self.refreshes = 0

    def _token_request(self) -> httpx.Request:
        form = urlencode({"grant_type": "client_credentials", "sub": self._user_id})
        return httpx.Request(
            "POST",
            self.token_url,
            content=form.encode(),
            headers={"Authorization": self._basic, "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"},
        )

    def _take_token(self, response: httpx.Response) -> None:
        body = decode_json(response, VENDOR)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise HttpError(f"{VENDOR} POST {response.request.url.path}: the reply carries no access_token",
                            vendor=VENDOR, status=response.status_code)
        self._token = token
        self._expires_at = parse_expiry(body, self._clock())
        self.refreshes += 1

    def _needs_token(self) -> bool:
        return self._token is None or self._clock() >= self._expires_at - TOKEN_REFRESH_MARGIN_S

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._needs_token():
            token_response = yield self._token_request()
            if not token_response.is_success:
                return  # the caller sees the token endpoint's answer: retried or reported as such
            self._take_token(token_response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code != 401:
            return
        # The token was good when issued, so it expired early or was revoked: one fresh token, one retry.
        self._token = None
        token_response = yield self._token_request()
        if not token_response.is_success:
            return
        self._take_token(token_response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            raise HttpError(
                f"{VENDOR} {request.method} {request.url.path} failed with 401 even with a fresh token: "
                "check the client credentials and the user id (sub)",
                vendor=VENDOR,
                status=401,
            )
