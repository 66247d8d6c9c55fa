"""`junkan partner …`: credit balances, redemptions, the ledger, and a sync without Prefect."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from junkan.cli.days import command_runtime
from junkan.db import session_scope
from junkan.partner import ledger
from junkan.partner.factory import configured_partners, find_partner, partner_timezone
from junkan.partner.records import PartnerError
from junkan.partner.sync import code_verifier, partner_summaries, sync_partner

app = typer.Typer(help="Relay partner: referral credits (balance, redemption, ledger).", no_args_is_help=True)


def _yen(value: int) -> str:
    return f"¥{value:,}"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@app.command("status")
def status(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Month of this day (YYYY-MM-DD) for 'this period'; default today."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Balance, progress to the next credit and registrations for every configured partner."""
    rt = command_runtime(as_of)
    try:
        summaries = partner_summaries(rt.engine, rt.settings, rt.clock)
    except PartnerError as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in summaries], ensure_ascii=False, indent=2))
        return
    for s in summaries:
        typer.echo(
            f"{s.partner}: balance {s.balance} credit(s) ({_yen(s.value_yen)}), next credit {s.progress}"
        )
        typer.echo(
            f"  registrations: {s.registrations_period} this period "
            f"({s.period_start} – {s.period_end}), {s.registrations_all_time} all-time; "
            f"interviewed {s.interviewed_all_time}, placed {s.placed_all_time}"
        )
        typer.echo(
            f"  credits: {s.credits_earned} earned, {s.credits_redeemed} redeemed, "
            f"{s.credits_expired} expired"
        )
        if s.counted_status != "registered":
            typer.echo(f"  credits count '{s.counted_status}' referrals: {s.counted_all_time} so far")
        if s.suspicious or s.quarantined:
            typer.echo(
                f"  review: {s.suspicious} suspicious referral(s), {s.quarantined} quarantined item(s)"
            )


@app.command("redeem")
def redeem(
    partner: Annotated[str, typer.Argument(help="Partner name as configured (e.g. careerrelay).")],
    hire: Annotated[
        str,
        typer.Option(
            "--hire",
            help="Opaque reference of the hire the credit pays for, "
            "e.g. the ATS application id. Redeeming the same hire twice does "
            "nothing.",
        ),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Free text kept in the entry's reason (no personal data).")
    ] = None,
) -> None:
    """Spend one credit (the oldest) on a hire supported by the partner."""
    rt = command_runtime()
    try:
        rule = ledger.ContractRule.from_settings(find_partner(rt.settings, partner))
        result = ledger.redeem_credit(rt.engine, rule, hire, note=note)
    except PartnerError as exc:
        raise _fail(str(exc), 2) from None
    except ledger.LedgerError as exc:
        raise _fail(f"cannot redeem: {exc}") from None
    if result.created:
        typer.echo(
            f"Redeemed credit #{result.credit_no} of {partner} for hire {result.hire_ref} "
            f"({_yen(result.value_yen)}). Balance now {result.balance_after}."
        )
    else:
        typer.echo(
            f"Hire {result.hire_ref} already redeemed credit #{result.credit_no} of {partner}; "
            f"nothing changed. Balance {result.balance_after}."
        )


@app.command("ledger")
def show_ledger(
    partner: Annotated[str, typer.Argument(help="Partner name as configured.")],
    limit: Annotated[int, typer.Option(help="Newest entries to show.")] = 50,
) -> None:
    """The partner's ledger entries, newest first, with the balance (= their sum)."""
    rt = command_runtime()
    try:
        tz = partner_timezone(find_partner(rt.settings, partner))
    except PartnerError as exc:
        raise _fail(str(exc), 2) from None
    with session_scope(rt.engine) as session:
        rows = ledger.entries(session, partner, limit=limit)
        total = ledger.balance(session, partner)
    for e in rows:
        when = e.effective_at.astimezone(tz).strftime("%Y-%m-%d")
        typer.echo(
            f"{when}  {e.kind:<8} {e.credits:+d}  {_yen(e.value_yen):>12}  #{e.credit_no:<4} {e.reason}"
        )
    typer.echo(f"balance: {total}")


@app.command("sync")
def sync(
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner (default all).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge expiry at the end of this day.")] = None,
) -> None:
    """Pull and apply partner reports now, without Prefect (the flow `sync-partner-stats` does the same)."""
    rt = command_runtime(as_of)
    try:
        partners = [find_partner(rt.settings, partner)] if partner else configured_partners(rt.settings)
        verify = code_verifier(rt.settings)
        results = {p.name: sync_partner(rt.engine, p, verify_code=verify, clock=rt.clock) for p in partners}
    except PartnerError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
