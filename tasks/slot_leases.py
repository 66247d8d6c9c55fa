"""The leases behind Prefect's concurrency slots, seen from a run that waits for one (docs/operations.md,
"Concurrency leases").

A slot taken with a lease is held until its holder releases it or the lease runs out and Prefect's
*repossessor* service gives it back. Two things can keep a dead run's slot for good:

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
from collections.abc import Coroutine
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from prefect.settings import PREFECT_API_URL

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
