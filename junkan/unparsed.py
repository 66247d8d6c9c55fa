"""What a source adapter (an ATS's, a partner's) yields for an item it could not parse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Unparsed:
    """Quarantined with `reason` and the item as received (`raw`), never stored as data or counted."""

    reason: str
    raw: dict[str, Any]
