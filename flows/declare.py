"""How a Junkan flow is declared, and how a flow that goes on past a failed part ends.

`junkan_flow` is `@flow` with what every flow takes the same way: the run named by `run_namer`, prints not
captured as logs, results written as JSON by `tasks.persistence` (never a pickle of what a task returned).
A flow that keeps going when one of its parts fails raises a `PartsFailed` once its artifact is published,
so the run ends Failed and names what failed, with the other parts' figures already in the artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Flow, flow

from flows.params import run_namer
from tasks.persistence import RESULT_SERIALIZER

P = ParamSpec("P")
R = TypeVar("R")


def junkan_flow(name: str, *, description: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    return flow(name=name, log_prints=False, result_serializer=RESULT_SERIALIZER,
                flow_run_name=run_namer(name), description=description)


class PartsFailed(RuntimeError):
    """Raised after the artifact is published: the run ends Failed and names the parts that failed."""

    @classmethod
    def naming(cls, what: str, failed: list[str]) -> PartsFailed:
        return cls(f"{what} failed: {', '.join(failed)}")
