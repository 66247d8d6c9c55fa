"""`junkan outbox …`: review what the outbox could not settle on its own. Shows opaque ids only."""

from __future__ import annotations

from typing import Annotated

import typer

from junkan.cli.days import command_runtime
from junkan.db import session_scope
from junkan.outbox.review import ReviewError, list_messages, resolve, state_counts

app = typer.Typer(help="Review the outbox: list messages, settle 'unknown' ones.", no_args_is_help=True)


@app.command("list")
def list_cmd(
    state: Annotated[list[str] | None, typer.Option("--state", help="Only this state (repeatable).")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Only this kind (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
) -> None:
    """List messages: id, kind, state, due time, attempts and last error. No addresses or names."""
    engine = command_runtime().engine
    try:
        with session_scope(engine) as session:
            rows = list_messages(session, states=state, kinds=kind, limit=limit)
            totals = state_counts(session)
    except ReviewError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{'id':<24} {'kind':<11} {'state':<10} {'due (UTC)':<17} {'tries':>5}  error")
    for r in rows:
        error = " ".join(filter(None, [r.error_code, (r.error or "").replace("\n", " ")[:80]]))
        typer.echo(f"{r.public_id:<24} {r.kind:<11} {r.state:<10} {r.due_at:%Y-%m-%d %H:%M} "
                   f"{r.attempts:>5}  {error}")
    summary = ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "empty"
    typer.echo(f"-- {len(rows)} shown; outbox: {summary}")


@app.command("resolve")
def resolve_cmd(
    message_id: Annotated[str, typer.Argument(help="The message's opaque id (from `junkan outbox list`).")],
    sent: Annotated[bool, typer.Option("--sent", help="It did go out: mark it accepted.")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="It did not go out: send it next run.")] = False,
) -> None:
    """Settle an `unknown` message: --sent (mark accepted) or --resend (back to pending)."""
    if sent == resend:
        typer.echo("give exactly one of --sent or --resend", err=True)
        raise typer.Exit(2)
    engine = command_runtime().engine
    try:
        with session_scope(engine) as session:
            new_state = resolve(session, message_id, "sent" if sent else "resend")
    except ReviewError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{message_id}: {new_state}")
