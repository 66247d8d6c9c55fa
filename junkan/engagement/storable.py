"""What both databases can store of a parsed JSON value, and a reason naming the field when they cannot.

Python's JSON parser accepts more than the databases do. PostgreSQL refuses a NUL character in `text`
and in `jsonb`, a lone surrogate (from a `\\ud800` escape) in `jsonb`, and NaN or Infinity in `jsonb`;
SQLite's driver cannot encode a lone surrogate at all. Deep nesting exhausts recursion in every walker
and encoder along the way. Such a value must be refused for one event, never fail a whole batch.
"""

from __future__ import annotations

import json
import math
from typing import Any

from junkan.engagement.event_batch import HugeInt, Unreadable
from junkan.engagement.privacy import scrub_text

#: SendGrid events are flat (a list of categories at most); a generous bound on anything we keep.
MAX_DEPTH = 32
#: A field name in a reason is cut to this many characters, a whole path to `_PATH_CHARS`.
_NAME_CHARS = 40
_PATH_CHARS = 120


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text on both dialects, or None."""
    if "\x00" in value:
        return "holds a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate, which is not Unicode text"
    return None


def nested_deeper_than(value: Any, limit: int) -> bool:
    """True when containers inside `value` (itself level 1) go deeper than `limit` levels."""
    level = [value]
    for _ in range(limit):
        inner: list[Any] = []
        for item in level:
            items = item.values() if isinstance(item, dict) else item
            inner.extend(v for v in items if isinstance(v, (dict, list)))
        if not inner:
            return False
        level = inner
    return True


def unstorable(value: Any, *, prefix: str = "field") -> str | None:
    """The first reason `value` cannot be stored, naming the field (e.g. "field 'reason' holds …")."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        problem: str | None = None
        if isinstance(item, str):
            problem = text_problem(item)
        elif isinstance(item, float) and not math.isfinite(item):
            problem = "holds NaN or Infinity, which JSON cannot carry"
        elif isinstance(item, HugeInt):
            problem = f"holds an integer of {item.digits} digits"
        elif isinstance(item, Unreadable):
            problem = item.reason.removeprefix("event ")
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                problem = f"is nested deeper than {MAX_DEPTH} levels"
            elif isinstance(item, dict):
                for key, inner in item.items():
                    key_problem = text_problem(key) if isinstance(key, str) else None
                    if key_problem:
                        return f"{prefix} name at {_name(path) or 'the top'} {key_problem}"
                    stack.append((f"{path}.{_key(key)}" if path else _key(key), inner, depth + 1))
            else:
                stack.extend((f"{path}[{i}]", inner, depth + 1) for i, inner in enumerate(item))
        if problem:
            return f"{prefix} {_name(path)} {problem}" if path else f"value {problem}"
    return None


def storable_copy(value: Any, depth: int = 0) -> Any:
    """`value` with everything `unstorable` objects to replaced by a visible marker (for quarantine)."""
    if isinstance(value, str):
        if text_problem(value) is None:
            return value
        return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, HugeInt):
        return f"<integer of {value.digits} digits>"
    if isinstance(value, Unreadable):
        return {"unreadable": value.reason, "size": value.size}
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            return f"<nested deeper than {MAX_DEPTH} levels>"
        if isinstance(value, dict):
            return {storable_copy(str(k)): storable_copy(v, depth + 1) for k, v in value.items()}
        return [storable_copy(v, depth + 1) for v in value]
    return value


def _key(key: Any) -> str:
    # ASCII escapes keep the name itself storable; addresses are blanked like everywhere else.
    return scrub_text(json.dumps(str(key))[1:-1])[:_NAME_CHARS]


def _name(path: str) -> str:
    if len(path) > _PATH_CHARS:
        path = path[:_PATH_CHARS] + "…"
    return f"'{path}'" if path else ""
