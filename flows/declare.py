"""How a Junkan flow is declared, and how a flow that goes on past a failed part ends.

`junkan_flow` is `@flow` with what every flow takes the same way: the run named by `run_namer`, prints not
captured as logs, results written as JSON by `tasks.common` (never a pickle of what a task returned).
A flow that keeps going when one of its parts fails raises a `PartsFailed` once its artifact is published,
so the run ends Failed and names what failed, with the other parts' figures already in the artifact.

Every flow checks the database's schema revision before it starts (`schema_checked`): a database that was
never migrated fails the run in one line naming `junkan db upgrade`, which is what the UI shows.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Flow, flow

from flows.params import run_namer
from junkan.config import get_settings
from junkan.db import make_engine
from junkan.db.schema import require_current_schema
from tasks.common import RESULT_SERIALIZER

P = ParamSpec("P")
R = TypeVar("R")


def schema_checked(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` only once the configured database is at this Junkan's schema revision (one query per
    process: a sub-flow of `daily` finds it checked)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        require_current_schema(make_engine(get_settings().database_url))
        return fn(*args, **kwargs)

    # Prefect resolves string annotations in the namespace of the function it is given: hand it the
    # flow's own signature, already evaluated in the flow's module (as flows.overlap does).
    run.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return run


def junkan_flow(name: str, *, description: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    declare = flow(name=name, log_prints=False, result_serializer=RESULT_SERIALIZER,
                   flow_run_name=run_namer(name), description=description)

    def decorate(fn: Callable[P, R]) -> Flow[P, R]:
        return declare(schema_checked(fn))

    return decorate


class PartsFailed(RuntimeError):
    """Raised after the artifact is published: the run ends Failed and names the parts that failed."""

    @classmethod
    def naming(cls, what: str, failed: list[str]) -> PartsFailed:
        return cls(f"{what} failed: {', '.join(failed)}")
