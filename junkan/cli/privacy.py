"""`junkan privacy`: access requests, erasure and what retention has due (docs/privacy.md, Requests).

The keys given on the command line are never echoed back: output names our row ids, the key that
matched each record ("email", "phone", …), counts and tables only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from junkan.cli.days import command_runtime
from junkan.db import session_scope
from junkan.files import write_private
from junkan.privacy.copy_requests import mark_done, open_requests
from junkan.privacy.erasure import ReasonNamesThePerson, erase, look_up
from junkan.privacy.export import export_person
from junkan.privacy.find import Found, NotAKey, RequestKeys, describe
from junkan.privacy.run import due_summary

app = typer.Typer(help="Access requests, erasure and retention.", no_args_is_help=True)


# Each key is repeatable; a record matching any of them belongs to the request.
Emails = Annotated[list[str] | None, typer.Option("--email", help="The person's e-mail address.")]
Phones = Annotated[list[str] | None, typer.Option("--phone", help="Their phone number, in any form.")]
Refs = Annotated[list[str] | None, typer.Option("--candidate-ref", help="Their ref (c_…, `junkan pool`).")]
AppIds = Annotated[list[str] | None, typer.Option("--application-id", help="Their ATS application id.")]


def _keys(email: list[str] | None, phone: list[str] | None, ref: list[str] | None,
          application_id: list[str] | None) -> RequestKeys:
    return RequestKeys(tuple(email or ()), tuple(phone or ()), tuple(ref or ()), tuple(application_id or ()))


def _refuse(command: str, exc: Exception) -> NoReturn:
    typer.echo(f"junkan privacy {command}: {exc}", err=True)
    raise typer.Exit(2)


def _show(found: Found) -> None:
    lines = describe(found)
    typer.echo(f"matched {len(found.candidates)} candidate(s):" if lines else "matched no record")
    for line in lines:
        typer.echo(f"  {line}")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write (everything held about them).")],
    email: Emails = None, phone: Phones = None, candidate_ref: Refs = None, application_id: AppIds = None,
) -> None:
    """Write every row held about a person, from every table, as JSON (an access request).

    The person is found by any of the keys given; the file also says which key matched each record.
    """
    rt = command_runtime()
    settings = rt.settings
    try:
        with rt.engine.connect() as conn:
            keys = _keys(email, phone, candidate_ref, application_id)
            data = export_person(conn, keys, settings.retention.key_bytes(), links=settings.links,
                                 outbox_dir=settings.mail.outbox_dir)
    except NotAKey as exc:
        _refuse("export", exc)
    write_private(out, json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    tables = data["tables"]
    typer.echo(f"exported {sum(len(rows) for rows in tables.values())} rows from {len(tables)} tables "
               f"and {len(data['files'])} mail file(s) listed to {out}")


@app.command("erase")
def erase_command(
    email: Emails = None, phone: Phones = None, candidate_ref: Refs = None, application_id: AppIds = None,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why (kept in the audit record; must not name the person).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask (the list is still shown).")] = False,
) -> None:
    """Erase a person now, in every table; leaves tombstones (ingest skips them) and an audit record.

    Every record matching any key given is listed first (our row ids and the key that matched), then
    erased together once confirmed.
    """
    rt = command_runtime()
    settings, engine = rt.settings, rt.engine
    keys = _keys(email, phone, candidate_ref, application_id)
    try:
        _show(look_up(engine, settings, keys, reason=reason))
    except (ReasonNamesThePerson, NotAKey) as exc:
        _refuse("erase", exc)
    if not yes and not typer.confirm("erase these records?", default=False):
        typer.echo("nothing erased")
        raise typer.Exit(1)
    try:
        result = erase(engine, settings, keys, reason=reason, now=rt.clock.now())
    except (ReasonNamesThePerson, NotAKey) as exc:
        _refuse("erase", exc)
    rows = ", ".join(f"{name} {n}" for name, n in sorted(result.tables.items())) or "none"
    typer.echo(f"erased {result.candidates} candidate(s); rows scrubbed: {rows}; tombstones: "
               f"{result.tombstones}; mail files removed: {result.files}; audit record {result.audit_id}")


@app.command("copy-requests")
def copy_requests_command(
    done: Annotated[int | None, typer.Option("--done", help="Mark this request as sent.")] = None,
) -> None:
    """List the copies of their data people asked for on their own page, or mark one sent (--done).

    Send each with `junkan privacy export --candidate-ref REF`, to the address on file, then mark it done.
    """
    rt = command_runtime()
    if done is not None:
        with session_scope(rt.engine) as session:
            if not mark_done(session, done, at=rt.clock.now()):
                _refuse("copy-requests", ValueError(f"no open request {done}"))
        typer.echo(f"request {done} marked as sent")
        return
    with rt.engine.connect() as conn:
        found = open_requests(conn, rt.settings.links)
    typer.echo(f"{len(found)} open request(s)")
    for request in found:
        typer.echo(f"  {request.id}  {request.candidate_ref}  asked {request.requested_at.isoformat()}")


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
