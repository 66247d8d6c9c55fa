"""`junkan privacy`: access requests, erasure and what retention has due (docs/privacy.md, Requests).

The address given on the command line is never echoed back: output names counts and tables only.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from junkan.config import get_settings
from junkan.db import make_engine
from junkan.privacy.export import export_person
from junkan.privacy.run import ReasonNamesThePerson, due_summary, erase

app = typer.Typer(help="Access requests, erasure and retention.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("export")
def export_command(
    email: Annotated[str, typer.Option("--email", help="The person's e-mail address.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write (everything held about them).")],
) -> None:
    """Write every row held about a person, from every table, as JSON (an access request)."""
    settings = get_settings()
    try:
        with make_engine(settings.database_url).connect() as conn:
            data = export_person(conn, email, settings.retention.key_bytes())
    except ValueError as exc:  # no usable address: the request is refused as `erase` refuses it
        typer.echo(f"junkan privacy export: {exc}", err=True)
        raise typer.Exit(2) from None
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tables = data["tables"]
    typer.echo(f"exported {sum(len(rows) for rows in tables.values())} rows from {len(tables)} tables "
               f"to {out}")


@app.command("erase")
def erase_command(
    email: Annotated[str, typer.Option("--email", help="The person's e-mail address.")],
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why (kept in the audit record; must not name the person).")] = None,
) -> None:
    """Erase a person now, in every table; leaves tombstones (ingest skips them) and an audit record."""
    settings = get_settings()
    try:
        result = erase(make_engine(settings.database_url), settings, email, reason=reason, now=_now())
    except (ReasonNamesThePerson, ValueError) as exc:
        typer.echo(f"junkan privacy erase: {exc}", err=True)
        raise typer.Exit(2) from None
    rows = ", ".join(f"{name} {n}" for name, n in sorted(result.tables.items())) or "none"
    typer.echo(f"erased {result.candidates} candidate(s); rows scrubbed: {rows}; tombstones: "
               f"{result.tombstones}; audit record {result.audit_id}")


@app.command("due")
def due_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge as of this day (YYYY-MM-DD, local).")]
    = None,
) -> None:
    """List the actions due: anonymisations by rule, and consent renewals to send."""
    settings = get_settings()
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date: {as_of!r} (expected YYYY-MM-DD)",
                                 param_hint="--as-of") from None
    counts = due_summary(make_engine(settings.database_url), settings, day, _now())
    if settings.retention.uses_default_key:
        typer.echo("warning: JUNKAN_RETENTION__HASH_KEY is the shipped demo key; set your own before "
                   "production (docs/privacy.md)", err=True)
    for rule in ("rejected_days", "pool_expired"):
        typer.echo(f"anonymise ({rule}): {counts[rule]}")
    off = "" if settings.consent.renewal_enabled else " (renewal mails are off: " \
        "JUNKAN_CONSENT__RENEWAL_ENABLED)"
    typer.echo(f"consent renewals to send: {counts['renewals']}{off}")
