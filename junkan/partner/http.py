"""The partner's HTTP JSON stats endpoint (docs/partner.md, "The two adapters").

`GET {base}/v1/referrals?since=ISO` with `Authorization: Bearer TOKEN` answers
`{"items": [{"ref_code", "status", "occurred_at"}], "next": cursor | null}`. A non-null `next` is fetched
as `?since=ISO&cursor=NEXT` until it is null. Throttling (429 + Retry-After) and 5xx are retried by the
RetryingClient the source is given (junkan.http); a malformed item becomes a BadReferral, a malformed page
fails the fetch. The sync stores facts chunk by chunk as they stream in but advances the watermark and the
ledger only after the whole fetch, so a fetch that fails half-way is simply read again next time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo

from junkan.http import HttpError, RetryingClient
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
        client: RetryingClient,
        *,
        tz: tzinfo = UTC,
        max_pages: int = 100_000,
    ) -> None:
        """`client` is the configured vendor client (junkan.http.build_client); one fetch closes it."""
        if not base_url:
            raise PartnerError(f"partner {name}: base_url is not set")
        if not token:
            raise PartnerError(f"partner {name}: token is not set (JUNKAN_PARTNER__TOKEN)")
        self.name = name
        self.url = base_url.rstrip("/") + "/v1/referrals"
        self._auth = {"Authorization": f"Bearer {token}"}
        self._client = client
        self._tz = tz
        self._max_pages = max_pages
        #: Counters of the last fetch (requests, retries, waited_s, pages), for the run's summary.
        self.stats: dict[str, float] = {}

    def fetch(self, since: datetime | None) -> Iterator[ReferralRecord | BadReferral]:
        since_param = iso_utc(since or EPOCH)
        params: dict[str, str] = {"since": since_param}
        seen_cursors: set[str] = set()
        what = f"partner {self.name} GET /v1/referrals"
        with self._client as client:
            page = 0
            try:
                while True:
                    try:
                        body, _ = client.get_json(self.url, params=params, headers=self._auth)
                    except HttpError as exc:
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
