"""Prefect's global limits that keep Junkan's runs and provider calls in bounds (docs/operations.md).

- `junkan-send` (1 slot): held by every flow that sends for its whole run, so two sending runs never
  overlap, whichever deployment, worker or `junkan run` started them (flows/overlap.py).
- `junkan-sendgrid`, `junkan-ats`: rate limits (slots decay at the configured requests per second),
  taken before every SendGrid or ATS API request by every worker at once.

All are used with `strict=True`: a missing limit is an error rather than silently no limit at all.
`junkan setup` creates them; `junkan run` and the demo create them too (`ensure_limits`), since they
often run against a fresh ephemeral server.

**Concurrency leases** (docs/operations.md, "Concurrency leases"): a slot taken with a lease is held until
its holder releases it or the lease runs out and Prefect's *repossessor* service gives it back. Two things
can keep a dead run's slot for good:

- the lease storage: Prefect keeps leases in memory by default, so a temporary server, or a restarted one,
  never learns of a lease taken before, and nothing ever expires it. `junkan run` and the demo use the
  filesystem storage (under PREFECT_HOME: junkan/cli), and so must a self-hosted server (one
  server; Redis through `prefect-redis` where several share a database);
- the repossessor: it runs in a full server, but not in the temporary server of `junkan run`. There the
  waiting run does its work itself (`repossess_expired`), on the same PREFECT_HOME, before and while it
  waits.

No public API lists leases, so the exact expiry of the holder's lease is known only on the temporary server
(`holder_expiry`); against a full server the waiting run can only bound it (now + the lease).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import rate_limit
from prefect.settings import PREFECT_API_URL

from junkan.config import Settings
from junkan.http import Throttle
from junkan.mail.backends import MailBackend, build_backend

SEND_LIMIT = "junkan-send"
SENDGRID_LIMIT = "junkan-sendgrid"
ATS_LIMIT = "junkan-ats"


class LimitMissing(RuntimeError):
    """A limit Junkan needs does not exist on this Prefect server."""


def is_missing_limit(exc: ConcurrencySlotAcquisitionError) -> bool:
    """Prefect's strict mode refused because the limit does not exist (not an API failure)."""
    return "must be created" in str(exc)


def missing_limit_message(name: str) -> str:
    return (f"Prefect has no global concurrency limit {name!r}: run `junkan setup` against this Prefect "
            "server (PREFECT_API_URL) before running flows")


@dataclass(frozen=True, slots=True)
class LimitSpec:
    name: str
    limit: int
    #: Slots freed per second; 0 for a plain concurrency limit, whose slots are freed on release.
    slot_decay_per_second: float


def wanted_limits(settings: Settings) -> list[LimitSpec]:
    """The limits as the settings describe them. A rate limit of r per second holds ceil(r) slots, so a
    burst never exceeds one second's worth of requests."""
    limits = settings.limits
    return [
        LimitSpec(SEND_LIMIT, 1, 0.0),
        LimitSpec(SENDGRID_LIMIT, max(1, math.ceil(limits.sendgrid_per_second)), limits.sendgrid_per_second),
        LimitSpec(ATS_LIMIT, max(1, math.ceil(limits.ats_per_second)), limits.ats_per_second),
    ]


def ensure_limits(settings: Settings) -> list[str]:
    """Create or update every limit to match the settings (idempotent); returns their names."""
    specs = wanted_limits(settings)
    with get_client(sync_client=True) as client:
        for spec in specs:
            client.upsert_global_concurrency_limit_by_name(
                spec.name, spec.limit, slot_decay_per_second=spec.slot_decay_per_second)
    return [spec.name for spec in specs]


def provider_throttle(name: str) -> Throttle:
    """A throttle for the library's clients: takes one slot of rate limit `name`, waiting as needed."""

    def take_slot() -> None:
        try:
            rate_limit(name, occupy=1, strict=True)
        except ConcurrencySlotAcquisitionError as exc:
            if is_missing_limit(exc):
                raise LimitMissing(missing_limit_message(name)) from None
            raise

    return take_slot


@contextmanager
def throttled_backend(settings: Settings,
                      clock: Callable[[], datetime] | None = None) -> Iterator[MailBackend]:
    """The configured mail backend, its SendGrid requests under `junkan-sendgrid`, dated by the run's
    real `clock`; closed afterwards."""
    backend = build_backend(settings, throttle=provider_throttle(SENDGRID_LIMIT), clock=clock)
    try:
        yield backend
    finally:
        backend.close()


T = TypeVar("T")


def on_temporary_server() -> bool:
    """`junkan run` without PREFECT_API_URL: Prefect's temporary server, which runs no repossessor."""
    return not PREFECT_API_URL.value()


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # A flow body may run inside Prefect's event loop thread: a fresh loop in a helper thread is always safe.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def repossess_expired() -> int:
    """Give back the slots of every expired lease, as the repossessor of a full server does; returns how
    many leases were revoked. Only for the temporary server, whose database and lease files are on this
    PREFECT_HOME."""
    from prefect.server.concurrency.lease_storage import get_concurrency_lease_storage
    from prefect.server.database import provide_database_interface
    from prefect.server.services.repossessor import revoke_expired_lease

    async def run() -> int:
        storage = get_concurrency_lease_storage()
        expired = await storage.read_expired_lease_ids()
        for lease_id in expired:
            await revoke_expired_lease(lease_id, db=provide_database_interface(), lease_storage=storage)
        return len(expired)

    return _run(run())


def holder_expiry(limit_id: UUID) -> datetime | None:
    """When the latest lease held on the limit runs out (temporary server only); None when none is held."""
    from prefect.server.concurrency.lease_storage import get_concurrency_lease_storage

    async def run() -> datetime | None:
        storage = get_concurrency_lease_storage()
        ends: list[datetime] = []
        for lease_id in await storage.read_active_lease_ids(limit=1000):
            lease = await storage.read_lease(lease_id)
            if lease is not None and limit_id in lease.resource_ids:
                ends.append(lease.expiration)
        return max(ends) if ends else None

    return _run(run())
