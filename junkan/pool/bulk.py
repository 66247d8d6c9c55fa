"""Bulk work over the whole pool: garbage collection kept from walking the pool's millions of objects
again and again.

A run rewrites the pool snapshot and the potential scores (a row per member: hundreds of thousands) and
stores its matches through `junkan.ingest.upsert.insert_tuples` (each column's bind processor once per
distinct value, one executemany or one COPY).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while millions of long-lived objects are built: each full collection walks
    them all again, and none of them is garbage yet."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """The objects alive now (after `load_signals`: millions) are left out of garbage collection until
    the block ends, so the collections that the matcher's own allocations trigger do not walk them again
    and again. Reference counting still frees them as usual; only cycles among them wait for the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
