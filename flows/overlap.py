"""Two runs that send never overlap: every flow that sends holds Prefect's `junkan-send` slot (limit 1).

Per-deployment concurrency limits only keep two runs of one deployment apart. `daily` runs
`send-rejections` and `recontact` in-process, so a manual run of the `send-rejections` deployment, or a
`junkan run recontact` on another machine, would otherwise send alongside the scheduled `daily`. With
one global slot the second run waits its turn (JUNKAN_LIMITS__SEND_WAIT_S), then is refused with
`SendingBusy`, and never sends alongside the first.

`daily` takes the slot for its whole run; the sub-flows it runs in-process see that their parent holds
it (a context variable) and do not wait for themselves. The slot is a lease that the holder renews, so
a crashed worker frees it when the lease expires (JUNKAN_LIMITS__SEND_LEASE_S, 5 minutes by default)
rather than blocking for ever - provided the lease storage survives the server and something revokes
expired leases (tasks/limits.py). A run that finds the slot taken says that its holder may have
died, and until when its lease holds the slot.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import MissingContextError, ObjectNotFound
from prefect.logging import get_logger, get_run_logger
from prefect.settings.context import get_current_settings

from junkan.db.types import utcnow
from junkan.runtime import settings as run_settings
from tasks.limits import (
    SEND_LIMIT,
    LimitMissing,
    holder_expiry,
    is_missing_limit,
    missing_limit_message,
    on_temporary_server,
    repossess_expired,
)

P = ParamSpec("P")
R = TypeVar("R")

_held: ContextVar[bool] = ContextVar("junkan_send_slot_held", default=False)


class SendingBusy(RuntimeError):
    """Another sending run held `junkan-send` for longer than this run was allowed to wait."""


@contextmanager
def sending_slot(flow_name: str) -> Iterator[None]:
    """Hold `junkan-send` for the block, waiting for it up to JUNKAN_LIMITS__SEND_WAIT_S."""
    if _held.get():
        yield
        return
    limits = run_settings().limits
    wait_s = limits.send_wait_s
    try:
        logger: Any = get_run_logger()
    except MissingContextError:  # held by a script or a test rather than a flow run
        logger = get_logger("junkan.overlap")
    logger.info("%s: taking the %s slot (waiting at most %g s for another run that sends)",
                flow_name, SEND_LIMIT, wait_s)
    deadline = time.monotonic() + wait_s
    with ExitStack() as stack:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SendingBusy(
                    f"{flow_name} refused: another run that sends (daily, send-rejections or recontact) "
                    f"still holds the {SEND_LIMIT} slot after {wait_s:g} s (JUNKAN_LIMITS__SEND_WAIT_S). "
                    "Nothing was sent; start it again once that run has finished (see the running flow runs "
                    "in the Prefect UI)")
            expiry = _wait_note(flow_name, logger, limits.send_lease_s, wait_s=remaining)
            attempt = remaining
            if expiry is not None:
                # The temporary server runs no repossessor: once the holder's lease has run out, this run
                # gives the slot back itself (next turn of the loop) rather than wait for nobody.
                attempt = min(remaining, max(1.0, (expiry - utcnow()).total_seconds() + 1.0))
            try:
                stack.enter_context(concurrency(SEND_LIMIT, occupy=1, timeout_seconds=attempt, strict=True,
                                                lease_duration=limits.send_lease_s))
                break
            except TimeoutError:
                continue
            except ConcurrencySlotAcquisitionError as exc:
                if not is_missing_limit(exc):
                    raise
                raise LimitMissing(missing_limit_message(SEND_LIMIT)) from None
        token = _held.set(True)
        try:
            yield
        finally:
            _held.reset(token)


def _wait_note(flow_name: str, logger: Any, lease_s: float, *, wait_s: float) -> datetime | None:
    """When the slot is taken, say so, and that its holder may have died and until when its lease holds it.
    Returns the exact end of the holder's lease where it is known (the temporary server), after giving
    back the slots of leases already run out there."""
    temporary = on_temporary_server()
    if temporary and (revoked := repossess_expired()):
        logger.warning("%s: gave back %d slot lease(s) that ran out, held by runs that died (a temporary "
                       "Prefect server has no repossessor to do it)", flow_name, revoked)
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(SEND_LIMIT)
        except ObjectNotFound:
            return None  # the strict acquisition says so in one line
    if limit.active_slots < limit.limit:
        return None
    expiry = holder_expiry(limit.id) if temporary else None
    if expiry is not None:
        until = f"its lease runs out at {expiry.isoformat(timespec='seconds')}"
    else:
        repossessor_s = get_current_settings().server.services.repossessor.loop_seconds
        bound = utcnow() + timedelta(seconds=lease_s + repossessor_s)
        until = (f"its lease (JUNKAN_LIMITS__SEND_LEASE_S = {lease_s:g} s) runs out, and the server frees "
                 f"the slot, by {bound.isoformat(timespec='seconds')} at the latest")
    logger.warning("%s: waiting for the %s slot, held by another run that sends or by one that may have "
                   "died (killed, lost its machine): if it died, %s; waiting at most %g s more",
                   flow_name, SEND_LIMIT, until, wait_s)
    return expiry


def holds_sending_slot(flow_name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator (under `@flow`): the whole flow body runs inside `sending_slot`."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with sending_slot(flow_name):
                return fn(*args, **kwargs)

        # Prefect resolves string annotations in the namespace of the function it is given: hand it the
        # flow's own signature, already evaluated in the flow's module.
        run.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
        return run

    return decorate
