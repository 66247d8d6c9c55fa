"""`junkan preview`: what the sending flows would do on a day, read-only."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from junkan.config import get_settings


def preview(
    day: Annotated[str | None, typer.Option(
        "--date", help="The day to preview, YYYY-MM-DD (default: the next business day); any day, also "
                       "one still to come.")] = None,
) -> None:
    """List the notices, re-contact mails or shortlists and renewals the sending flows would produce on a
    day, with counts and one sample mail rendered for a placeholder candidate. Changes nothing."""
    from junkan.db import make_engine
    from junkan.preview import default_preview_date, preview_day
    from junkan.preview.text import render_text

    settings = get_settings()
    if day is None:
        target = default_preview_date(settings)
    else:
        try:
            target = date.fromisoformat(day)
        except ValueError:
            raise typer.BadParameter(f"not a date: {day!r} (expected YYYY-MM-DD)", param_hint="--date") \
                from None
    typer.echo(render_text(preview_day(make_engine(settings.database_url), settings, target), settings),
               nl=False)
