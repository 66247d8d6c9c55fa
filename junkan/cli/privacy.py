"""`junkan privacy`: access requests, erasure and what retention has due (docs/privacy.md, Requests).

The address given on the command line is never echoed back: output names counts and tables only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from junkan.cli.days import command_runtime
from junkan.privacy.export import export_person
from junkan.privacy.run import ReasonNamesThePerson, due_summary, erase

app = typer.Typer(help="Access requests, erasure and retention.", no_args_is_help=True)


@app.command("export")
def export_command(
    email: Annotated[str, typer.Option("--email", help="The person's e-mail address.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write (everything held about them).")],
) -> None:
    """Write every row held about a person, from every table, as JSON (an access request)."""
    rt = command_runtime()
    with rt.engine.connect() as conn:
        data = export_person(conn, email, rt.settings.retention.key_bytes())
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
    rt = command_runtime()
    try:
        result = erase(rt.engine, rt.settings, email, reason=reason, now=rt.clock.now())
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
    rt = command_runtime(as_of)
    settings = rt.settings
    counts = due_summary(rt.engine, settings, rt.clock)
    if settings.retention.uses_default_key:
        typer.echo("warning: JUNKAN_RETENTION__HASH_KEY is the shipped demo key; set your own before "
                   "production (docs/privacy.md)", err=True)
    for rule in ("rejected_days", "pool_expired"):
        typer.echo(f"anonymise ({rule}): {counts[rule]}")
    off = "" if settings.consent.renewal_enabled else " (renewal mails are off: " \
        "JUNKAN_CONSENT__RENEWAL_ENABLED)"
    typer.echo(f"consent renewals to send: {counts['renewals']}{off}")
