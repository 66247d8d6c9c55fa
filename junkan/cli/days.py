"""Days on the command line, and the Runtime a command starts with.

A day that is not a date is a usage error (typer's message). A day Junkan cannot use - out of range, or
in the future where a run would choose work not yet due - is refused in one line, exit 2.
"""

from __future__ import annotations

from datetime import date
from typing import NoReturn

import typer

from junkan.clock import DateRefused, check_day
from junkan.runtime import Runtime, runtime


def refuse(message: str) -> NoReturn:
    typer.echo(f"junkan: {message}", err=True)
    raise typer.Exit(2)


def parse_day(value: str, option: str) -> date:
    """`value` as a date within Junkan's range (junkan/clock.py)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date: {value!r} (expected YYYY-MM-DD)", param_hint=option) from None
    try:
        return check_day(day, option)
    except DateRefused as exc:
        refuse(str(exc))


def command_runtime(as_of: str | date | None = None, *, option: str = "--as-of",
                    allow_future: bool = False) -> Runtime:
    """The Runtime of this command, choosing the work of `as_of` (None: today); a far or future day is
    refused in one line."""
    day = parse_day(as_of, option) if isinstance(as_of, str) else as_of
    try:
        return runtime(day, allow_future=allow_future)
    except DateRefused as exc:
        refuse(str(exc))
