"""What a flow returns: its counts, its yes/no flags and the sentences that explain them.

The flow that ran the work says what happened in its own words (the closed sending window with the
moment it opens again, the provider refusing the key), once; its counts artifact and `daily`'s summary
both read the result rather than guessing from key names. Stored as JSON (figures, flags and fixed
sentences; never a name, an address or a row). It reads like a mapping of its counts and flags
(`result["sent"]`, flags as 0/1), which is also what `junkan run` prints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


# eq=False: equality is the mapping's (`result == {"sent": 3, ...}`), or every field against a FlowResult.
@dataclass(frozen=True, slots=True, eq=False)
class FlowResult(Mapping[str, int]):
    #: One row each in the flow's counts artifact and in `daily-summary`.
    counts: dict[str, int]
    #: Yes/no facts of the run (`dry_run`, `outside_window`, `fatal`): said in `notes`, never a row.
    flags: dict[str, bool] = field(default_factory=dict)
    #: Sentences for the operator, in Japanese: what the flags mean for this run.
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> int:
        return int(self.flags[key]) if key in self.flags else self.counts[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.counts
        yield from (key for key in self.flags if key not in self.counts)

    def __len__(self) -> int:
        return len(self.counts) + len(self.flags.keys() - self.counts.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FlowResult):
            return (self.counts, self.flags, self.notes) == (other.counts, other.flags, other.notes)
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  # mutable contents
