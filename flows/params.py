"""Shared parameter handling: pass a flow only the common parameters it declares."""

from __future__ import annotations

import inspect
from typing import Any


def supported_kwargs(flow_obj: Any, **candidates: Any) -> dict[str, Any]:
    """`as_of` goes to every flow; `dry_run` only to the flows that send (DESIGN.md §2)."""
    accepted = inspect.signature(flow_obj.fn).parameters
    return {k: v for k, v in candidates.items() if k in accepted and v is not None}
