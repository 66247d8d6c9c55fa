"""Pull SendGrid's suppression lists into the local suppression table (the `sync-email-events` flow).

Each list is read from its stored watermark (`start_time`, inclusive) up to the moment the sync started
(`end_time`, fixed so that offset paging walks a stable window), `limit` ≤ 500 per page. Every page is merged
in its own transaction and the watermark advances only once the whole list was read, so a failed run is
simply repeated: merging is idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, select

from junkan.config import MailSettings
from junkan.db import session_scope
from junkan.db.models_engagement import SuppressionSync
from junkan.engagement.optout import (
    cancel_pending_advertising,
    candidates_by_email,
    suppress,
    withdraw_consents,
)
from junkan.http import RetryingClient, Throttle, build_client
from junkan.identity import is_valid_email, normalize_email

log = logging.getLogger(__name__)

SYNC_SOURCE = "sendgrid-sync"
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class SuppressionList:
    #: SendGrid's name of the list, which is also the last part of its endpoint's path.
    name: str
    #: Our Suppression.reason for addresses from this list.
    reason: str
    #: A recipient's own opt-out: also withdraws advertising consents, as the unsubscribe endpoint does.
    opt_out: bool = False

    @property
    def path(self) -> str:
        return f"/v3/suppression/{self.name}"


LISTS: tuple[SuppressionList, ...] = (
    SuppressionList("bounces", "bounce"),
    SuppressionList("blocks", "block"),
    SuppressionList("spam_reports", "spamreport"),
    SuppressionList("invalid_emails", "invalid"),
    SuppressionList("unsubscribes", "unsubscribe", opt_out=True),
)
ASM_GROUP_LIST = "asm_group"


class SuppressionSyncError(RuntimeError):
    """SendGrid answered something a suppression list cannot be (the message names the list, no data)."""


def sendgrid_client(
    mail: MailSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    transport: httpx.BaseTransport | None = None,
    throttle: Throttle | None = None,
) -> RetryingClient:
    if mail.sendgrid_api_key is None:
        raise ValueError("JUNKAN_MAIL__SENDGRID_API_KEY is not set; cannot read SendGrid suppressions")
    return build_client(
        "SendGrid",
        mail,
        headers={"Authorization": f"Bearer {mail.sendgrid_api_key.get_secret_value()}"},
        sleep=sleep,
        clock=clock,
        transport=transport,
        throttle=throttle,
    )


def sync_suppressions(
    engine: Engine,
    mail: MailSettings,
    client: RetryingClient,
    *,
    now: datetime,
    key: bytes,
    page_size: int = MAX_PAGE_SIZE,
) -> dict[str, int]:
    """Merge every list (and the ASM group's suppressions when configured). Returns counts per list."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    host = mail.sendgrid_host.rstrip("/")
    counts: dict[str, int] = {}
    for spec in LISTS:
        fetched, added = _sync_list(engine, client, host, spec, now=now, page_size=page_size, key=key)
        counts[f"{spec.name}_fetched"] = fetched
        counts[f"{spec.name}_added"] = added
    if mail.asm_group_id is not None:
        fetched, added = _sync_group(engine, client, host, mail.asm_group_id, now=now, key=key)
        counts[f"{ASM_GROUP_LIST}_fetched"] = fetched
        counts[f"{ASM_GROUP_LIST}_added"] = added
    return counts


def _sync_list(engine: Engine, client: RetryingClient, host: str, spec: SuppressionList, *, now: datetime,
               page_size: int, key: bytes) -> tuple[int, int]:
    with session_scope(engine) as session:
        watermark = session.scalar(
            select(SuppressionSync.watermark).where(SuppressionSync.list_name == spec.name)
        )
    params: dict[str, Any] = {"end_time": int(now.timestamp()), "limit": page_size}
    if watermark is not None:
        params["start_time"] = int(watermark.timestamp())
    fetched = added = 0
    newest = watermark
    offset = 0
    while True:
        page = _get_list(client, f"{host}{spec.path}", {**params, "offset": offset}, spec.name)
        entries: list[tuple[str, str]] = []
        for item in page:
            if not isinstance(item, dict):
                raise SuppressionSyncError(f"SendGrid {spec.name}: an entry is not an object")
            address = normalize_email(item.get("email")) if isinstance(item.get("email"), str) else None
            if address and is_valid_email(address):
                entries.append((address, spec.reason))
            created = _created(item.get("created"))
            if created is not None and (newest is None or created > newest):
                newest = created
        added += _merge(engine, entries, opt_out=spec.opt_out, now=now, key=key)
        fetched += len(page)
        if len(page) < page_size:
            break
        offset += page_size
    with session_scope(engine) as session:
        row = session.get(SuppressionSync, spec.name) or SuppressionSync(list_name=spec.name)
        row.watermark = newest
        row.last_run_at = now
        row.last_fetched = fetched
        row.last_added = added
        session.add(row)
    if added:
        log.info("SendGrid %s: %d fetched, %d new suppressions", spec.name, fetched, added)
    return fetched, added


def _sync_group(engine: Engine, client: RetryingClient, host: str, group_id: int, *,
                now: datetime, key: bytes) -> tuple[int, int]:
    # The group endpoint has no paging or time filter: it returns every address, as plain strings.
    emails = _get_list(client, f"{host}/v3/asm/groups/{group_id}/suppressions", None, ASM_GROUP_LIST)
    entries = []
    for value in emails:
        if not isinstance(value, str):
            raise SuppressionSyncError("SendGrid asm group suppressions: an entry is not a string")
        address = normalize_email(value)
        if address and is_valid_email(address):
            entries.append((address, "group_unsubscribe"))
    added = _merge(engine, entries, opt_out=True, now=now, key=key)
    with session_scope(engine) as session:
        row = session.get(SuppressionSync, ASM_GROUP_LIST) or SuppressionSync(list_name=ASM_GROUP_LIST)
        row.last_run_at = now
        row.last_fetched = len(emails)
        row.last_added = added
        session.add(row)
    return len(emails), added


def _merge(engine: Engine, entries: list[tuple[str, str]], *, opt_out: bool, now: datetime,
           key: bytes) -> int:
    if not entries:
        return 0
    with session_scope(engine) as session:
        new = suppress(session, entries, source=SYNC_SOURCE, at=now, key=key)
        if opt_out and new:
            candidates = candidates_by_email(session, new).values()
            withdraw_consents(session, candidates, source="sendgrid", at=now)
            cancel_pending_advertising(session, candidates, reason="unsubscribed", at=now)
    return len(new)


def _get_list(client: RetryingClient, url: str, params: dict[str, Any] | None, name: str) -> list[Any]:
    data, _ = client.get_json(url, params=params)
    if not isinstance(data, list):
        raise SuppressionSyncError(f"SendGrid {name}: expected a JSON array, got {type(data).__name__}")
    return data


def _created(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), UTC)

