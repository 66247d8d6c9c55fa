"""The partner's HTTP JSON stats endpoint (DESIGN.md §4, "Relay partner").

`GET {base}/v1/referrals?since=ISO` with `Authorization: Bearer TOKEN` answers
`{"items": [{"ref_code", "status", "occurred_at"}], "next": cursor | null}`. A non-null `next` is fetched
as `?since=ISO&cursor=NEXT` until it is null. Throttling (429 + Retry-After) and 5xx are retried by the
shared RetryingClient with an injectable sleep; a malformed item becomes a BadReferral, a malformed page
fails the fetch. The sync stores facts chunk by chunk as they stream in but advances the watermark and the
ledger only after the whole fetch, so a fetch that fails half-way is simply read again next time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo

import httpx

from junkan.ats.http import AtsError, RetryingClient, RetryPolicy
from junkan.partner.records import BadReferral, PartnerError, ReferralRecord, parse_item

#: `since` of the very first sync: everything the partner has.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HttpPartnerSource:
    kind = "http"

    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        tz: tzinfo = UTC,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        max_pages: int = 100_000,
    ) -> None:
        if not base_url:
            raise PartnerError(f"partner {name}: base_url is not set")
        if not token:
            raise PartnerError(f"partner {name}: token is not set (JUNKAN_PARTNER__TOKEN)")
        self.name = name
        self.url = base_url.rstrip("/") + "/v1/referrals"
        self._token = token
        self._tz = tz
        self._timeout_s = timeout_s
        self._policy = RetryPolicy(max_retries=max_retries)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._transport = transport
        self._max_pages = max_pages
        #: Counters of the last fetch (requests, retries, waited_s, pages), for the run's summary.
        self.stats: dict[str, float] = {}

    def fetch(self, since: datetime | None) -> Iterator[ReferralRecord | BadReferral]:
        since_param = iso_utc(since or EPOCH)
        params: dict[str, str] = {"since": since_param}
        seen_cursors: set[str] = set()
        what = f"partner {self.name} GET /v1/referrals"
        with RetryingClient(
            vendor=f"partner {self.name}",
            timeout_s=self._timeout_s,
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
            rng=self._rng,
            headers={"Authorization": f"Bearer {self._token}"},
            transport=self._transport,
        ) as client:
            page = 0
            try:
                while True:
                    try:
                        body, _ = client.get_json(self.url, params=params)
                    except AtsError as exc:
                        raise PartnerError(str(exc), retryable=exc.retryable) from exc
                    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                        raise PartnerError(f"{what} page {page}: expected an object with an 'items' list")
                    for index, item in enumerate(body["items"]):
                        yield parse_item(item, self._tz, where=f"page {page} item {index}")
                    cursor = body.get("next")
                    if cursor is None or cursor == "":
                        return
                    if not isinstance(cursor, str | int) or isinstance(cursor, bool):
                        raise PartnerError(f"{what} page {page}: 'next' is neither a cursor string nor null")
                    cursor = str(cursor)
                    # A partner bug that hands back the same cursor would otherwise loop forever.
                    if cursor in seen_cursors:
                        raise PartnerError(f"{what} page {page}: the partner repeated a cursor; stopping")
                    seen_cursors.add(cursor)
                    page += 1
                    if page >= self._max_pages:
                        raise PartnerError(f"{what}: more than {self._max_pages} pages; stopping")
                    params = {"since": since_param, "cursor": cursor}
            finally:
                self.stats = {**client.stats, "pages": page + 1}
