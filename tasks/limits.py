"""Prefect's global limits that keep Junkan's runs and provider calls in bounds (docs/operations.md).

- `junkan-send` (1 slot): held by every flow that sends for its whole run, so two sending runs never
  overlap, whichever deployment, worker or `junkan run` started them (flows/overlap.py).
- `junkan-sendgrid`, `junkan-ats`: rate limits (slots decay at the configured requests per second),
  taken before every SendGrid or ATS API request by every worker at once.

All are used with `strict=True`: a missing limit is an error rather than silently no limit at all.
`junkan setup` creates them; `junkan run` and the demo create them too (`ensure_limits`), since they
often run against a fresh ephemeral server.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import rate_limit

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
