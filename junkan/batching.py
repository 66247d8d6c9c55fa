"""Cutting a stream of items into lists of at most `size` (itertools.batched arrives only in Python 3.12)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

#: Rows per multi-row INSERT of the outbox and the ATS write-back: at the 10–16 columns such an insert
#: names, well under SQLite's limit of 32,766 bound parameters per statement, and few round trips.
INSERT_CHUNK = 1000


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter), read lazily."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
