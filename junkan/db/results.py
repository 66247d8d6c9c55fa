"""What a DML statement reports back, typed: `Session.execute` is typed as returning a plain `Result`."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rows_affected(result: Result[Any]) -> int:
    """The rows an UPDATE/DELETE/INSERT matched; DML always yields a CursorResult at run time."""
    return cast(CursorResult[Any], result).rowcount
