"""Whether the database a command is about to use is ready: reachable, at this Junkan's schema revision."""

from __future__ import annotations

import typer

from junkan.db import make_engine
from junkan.db.schema import DatabaseUnreachable, SchemaNotCurrent, require_current_schema


def refuse_a_database_not_ready(url: str) -> None:
    """Exit 2 with one line when the database is unreachable or not at this Junkan's schema revision."""
    try:
        require_current_schema(make_engine(url))
    except (SchemaNotCurrent, DatabaseUnreachable) as exc:
        typer.echo(f"junkan: {exc}", err=True)
        raise typer.Exit(2) from None
