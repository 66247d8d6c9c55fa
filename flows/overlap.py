"""Two runs that send never overlap: every flow that sends holds Prefect's `junkan-send` slot (limit 1).

Per-deployment concurrency limits only keep two runs of one deployment apart. `daily` runs
`send-rejections` and `recontact` in-process, so a manual run of the `send-rejections` deployment, or a
`junkan run recontact` on another machine, would otherwise send alongside the scheduled `daily`. With
one global slot the second run waits its turn (JUNKAN_LIMITS__SEND_WAIT_S), then is refused with
`SendingBusy`, and never sends alongside the first.

`daily` takes the slot for its whole run; the sub-flows it runs in-process see that their parent holds
it (a context variable) and do not wait for themselves. The slot is a lease that the holder renews, so
a crashed worker frees it when the lease expires (JUNKAN_LIMITS__SEND_LEASE_S, 5 minutes by default)
rather than blocking for ever.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger

from junkan.runtime import settings as run_settings
from tasks.limits import SEND_LIMIT, LimitMissing, is_missing_limit, missing_limit_message

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
    acquired = False
    try:
        with concurrency(SEND_LIMIT, occupy=1, timeout_seconds=wait_s, strict=True,
                         lease_duration=limits.send_lease_s):
            acquired = True
            token = _held.set(True)
            try:
                yield
            finally:
                _held.reset(token)
    except TimeoutError:
        if acquired:
            raise
        raise SendingBusy(
            f"{flow_name} refused: another run that sends (daily, send-rejections or recontact) still holds "
            f"the {SEND_LIMIT} slot after {wait_s:g} s (JUNKAN_LIMITS__SEND_WAIT_S). Nothing was sent; "
            "start it again once that run has finished (see the running flow runs in the Prefect UI)"
        ) from None
    except ConcurrencySlotAcquisitionError as exc:
        if acquired or not is_missing_limit(exc):
            raise
        raise LimitMissing(missing_limit_message(SEND_LIMIT)) from None


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
