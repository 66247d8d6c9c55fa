"""`junkan preview`: what the sending flows would do on a day, read-only."""

from __future__ import annotations

from typing import Annotated

import typer

from junkan.cli.days import command_runtime, parse_day


def preview(
    day: Annotated[str | None, typer.Option(
        "--date", help="The day to preview, YYYY-MM-DD (default: the next sending window that has not "
                       "closed yet, today included); any day, also one still to come.")] = None,
) -> None:
    """List the notices, re-contact mails or shortlists and renewals the sending flows would produce on a
    day, with counts and one sample mail rendered for a placeholder candidate. Changes nothing."""
    from junkan.preview import default_preview_date, preview_day
    from junkan.preview.model import render_text

    target = parse_day(day, "--date") if day is not None else None
    rt = command_runtime()
    if target is None:
        target = default_preview_date(rt.settings, rt.clock)
    typer.echo(render_text(preview_day(rt.engine, rt.settings, target), rt.settings), nl=False)
