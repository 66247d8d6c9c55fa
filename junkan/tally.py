"""What a run counted, as it publishes it: flow artifacts, task results, logs and stored run stats.

A run's result is a dataclass of counts deriving `Tally`. Its whole-number fields (flags as 0/1) are the
published counts, in the order they are declared; any other field (a list of planned mails, a newest
timestamp, counts by status) stays out. Publishing and summing are written here once, so that a count added
to a result is published and summed with no second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import ClassVar, Self

#: Field annotations that make a field a count (the modules postpone annotations, so they are text).
_COUNT_TYPES: frozenset[object] = frozenset({"int", "bool", int, bool})


@dataclass(slots=True)
class Tally:
    #: Published key of a count whose attribute says it shorter: the artifact's key is what users, docs and
    #: stored run stats know.
    RENAMED: ClassVar[Mapping[str, str]] = {}
    #: The counts published first, in this order, where the declaration order will not do: a shared base's
    #: fields come first, but an artifact keeps its rows where readers expect them. Any count not named
    #: follows in declaration order, so none goes unpublished.
    ORDER: ClassVar[tuple[str, ...]] = ()

    def counts(self) -> dict[str, int]:
        rest = tuple(name for name in _count_names(type(self)) if name not in self.ORDER)
        return {self.RENAMED.get(name, name): int(getattr(self, name)) for name in self.ORDER + rest}

    #: The name the ingest results have always published under.
    as_dict = counts

    def add(self, other: Self) -> None:
        """Sum `other` into this tally (the parts of a run done in chunks); a flag set in either stays set."""
        for name in _count_names(type(self)):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, (mine or theirs) if isinstance(mine, bool) else mine + theirs)


def _count_names(cls: type[Tally]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.type in _COUNT_TYPES)
