"""The one chunking helper: every item exactly once, in order, in lists of at most `size`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from junkan.batching import batched


def test_items_come_in_order_in_lists_of_at_most_size() -> None:
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(batched([], 3)) == []


def test_a_generator_is_read_only_as_far_as_the_batch_taken() -> None:
    pulled: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10):
            pulled.append(i)
            yield i

    first = next(batched(source(), 3))
    assert (first, pulled) == ([0, 1, 2], [0, 1, 2])


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(batched([1], 0))
