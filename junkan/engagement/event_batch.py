"""A webhook body read into its events, so that one unreadable event costs only itself.

`json.loads` of the whole body is the fast path and nearly always enough. Two faults of a single event
would otherwise lose the whole batch (SendGrid retries a refused batch for 72 hours, then drops it):

- an integer of more digits than Python converts (4,300 by default): the body is read again with a hook
  that keeps such a number as a `HugeInt` marker, which the event's checks then refuse;
- nesting deeper than the parser's recursion limit: the array is cut into its top-level elements (a
  tokenizer that never recurses) and each is read on its own; the one that fails becomes `Unreadable`.

A body that is not a JSON array, or not JSON at all, is still refused whole: nothing in it can be trusted
to be an event.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Python's default limit on the digits int() converts (sys.get_int_max_str_digits()).
_MAX_INT_DIGITS = 4300
#: A JSON string (escapes included), or one structural character; everything else is skipped.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)


class NotAnArray(ValueError):
    """The body is not JSON, or not a JSON array (the reason says which)."""


@dataclass(frozen=True, slots=True)
class HugeInt:
    """An integer literal too long to convert; kept only as its size."""

    digits: int


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A top-level element that is not readable JSON on its own."""

    reason: str
    size: int


def read_events(body: bytes | str) -> list[Any]:
    """The top-level array of a webhook body; elements that cannot be read are `Unreadable`."""
    try:
        events = json.loads(body)
    except RecursionError:
        return _element_wise(body)
    except ValueError:
        events = _loads(body)  # an integer past the digit limit; a syntax error raises NotAnArray
    if not isinstance(events, list):
        raise NotAnArray("expected a JSON array of events")
    return events


def _int(text: str) -> int | HugeInt:
    digits = len(text.lstrip("-"))
    return HugeInt(digits) if digits > _MAX_INT_DIGITS else int(text)


def _loads(text: bytes | str) -> Any:
    try:
        return json.loads(text, parse_int=_int)
    except RecursionError:
        return _element_wise(text)
    except ValueError as exc:
        raise NotAnArray("body is not JSON") from exc


def _element_wise(body: bytes | str) -> list[Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    out: list[Any] = []
    for piece in _split_array(text):
        try:
            out.append(json.loads(piece, parse_int=_int))
        except RecursionError:
            out.append(Unreadable("event is nested too deeply to read", len(piece)))
        except ValueError:
            out.append(Unreadable("event is not valid JSON", len(piece)))
    return out


def _split_array(text: str) -> list[str]:
    """The source text of each top-level element of the JSON array `text` (not validated)."""
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        raise NotAnArray("expected a JSON array of events")
    pieces: list[str] = []
    depth = 0
    begin = start + 1
    for match in _TOKEN.finditer(text, begin):
        char = text[match.start()]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth:
                depth -= 1
                continue
            if char != "]" or text[match.end():].strip():
                break
            last = text[begin:match.start()]
            if last.strip() or pieces:
                pieces.append(last)
            return pieces
        elif depth == 0:  # a comma between top-level elements
            pieces.append(text[begin:match.start()])
            begin = match.end()
    raise NotAnArray("body is not JSON")
