"""The `junkan` command line. Prefect is only imported (through flows/) by the commands that run flows."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from junkan.cli.days import command_runtime
from junkan.cli.outbox import app as outbox_app
from junkan.cli.partner import app as partner_app
from junkan.cli.pool import app as pool_app
from junkan.cli.preview import preview as preview_command
from junkan.cli.privacy import app as privacy_app
from junkan.cli.quiet_errors import quiet_operator_error_tracebacks
from junkan.cli.ready import refuse_a_database_not_ready
from junkan.cli.report import report as report_command
from junkan.cli.web import web as web_command
from junkan.config import ConfigError
from junkan.runtime import settings as run_settings

app = typer.Typer(
    help="Junkan: courteous rejection notices, talent pool and partner credits, run by Prefect.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(partner_app, name="partner")
app.add_typer(pool_app, name="pool")
app.add_typer(privacy_app, name="privacy")
app.command("web")(web_command)
app.command("report")(report_command)
app.command("preview")(preview_command)


#: Commands that read or write the database: they start only on a schema at this Junkan's revision.
#: (`run` checks in `run_flow`, after its arguments are read; `web` checks when its app starts.)
SCHEMA_COMMANDS = frozenset({"outbox", "partner", "pool", "privacy", "report", "preview"})


@app.callback()
def _refuse_a_bad_configuration(ctx: typer.Context) -> None:
    # Every command reads the same settings: a typo or a bad value stops here, in a few plain lines, before
    # any work starts (and before a flow would fail with it inside Prefect).
    try:
        settings = run_settings()
    except ConfigError as exc:
        typer.echo("junkan: the configuration is refused:", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None
    if ctx.invoked_subcommand in SCHEMA_COMMANDS:
        refuse_a_database_not_ready(settings.database_url)


def _prefect_env() -> None:
    # Junkan never reaches the internet (docs/architecture.md "Offline"); without network the analytics
    # ping would only log errors.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The ephemeral server of `junkan run`/`junkan demo` migrates a new PREFECT_HOME's database before it
    # answers: over Prefect's 20 s on a busy 2-core machine (seen: "Timed out while attempting to connect
    # to ephemeral Prefect API" on a first `make demo` with the load at 11).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    # Prefect keeps concurrency leases in memory by default: the next temporary server would never learn
    # of a killed run's lease on `junkan-send`, and the slot would stay taken for good. On disk (under
    # PREFECT_HOME) they outlive the server, and the next run gives back the expired ones
    # (tasks/limits.py, docs/operations.md "Concurrency leases").
    os.environ.setdefault("PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE",
                          "prefect.server.concurrency.lease_storage.filesystem")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations in sql/migrations to JUNKAN_DATABASE_URL."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from junkan.db import upgrade
    from junkan.db.schema import unreachable

    url = run_settings().database_url
    try:
        upgrade(url, revision)
    except (OperationalError, InterfaceError) as exc:
        # A wrong host, port or password: one line, not the driver's and Alembic's tracebacks.
        typer.echo(f"junkan: {unreachable(url, exc)}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"database upgraded to {revision}")


@app.command("flows")
def list_flows() -> None:
    """List the flows `junkan run` accepts, in the order `daily` runs them, then those outside `daily`."""
    for name in importlib.import_module("flows.catalog").flow_names():
        typer.echo(name)


def load_flow(name: str) -> Any:
    """The Prefect flow object `junkan run NAME` runs; KeyError naming the known flows otherwise."""
    _prefect_env()
    return importlib.import_module("flows.catalog").find(name).load()


def run_flow(name: str, as_of: date | None = None, dry_run: bool = False) -> Any:
    """Run one flow in-process (Prefect's ephemeral mode unless PREFECT_API_URL is set).

    The limits the flows take (`strict`, so a missing one is an error) are created or updated first:
    an ephemeral server starts without them.
    """
    refuse_a_database_not_ready(run_settings().database_url)
    flow_obj = load_flow(name)
    quiet_operator_error_tracebacks()
    importlib.import_module("tasks.limits").ensure_limits(run_settings())
    kwargs: dict[str, Any] = {"as_of": as_of} if as_of else {}
    if importlib.import_module("flows.catalog").find(name).takes_dry_run:
        kwargs["dry_run"] = dry_run
    return flow_obj(**kwargs)


@app.command("run")
def run(
    flow: Annotated[
        str, typer.Argument(help="Flow name, e.g. ingest-decisions or daily (see `junkan flows`).")
    ],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Do the work of a past day (YYYY-MM-DD): what was due by then. Mails still go out "
                        "only inside today's sending window; a future day is refused.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render but do not really send.")] = False,
) -> None:
    """Run any flow once, in-process, and print its counts as JSON."""
    # A far or future day is refused here, in one line, before Prefect starts (the tasks refuse it too).
    day = command_runtime(as_of).clock.as_of
    try:
        load_flow(flow)
    except KeyError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(2) from None
    try:
        result = run_flow(flow, day, dry_run)
    except Exception as exc:
        # Prefect has already logged the failure with its traceback; the operator needs the verdict and a
        # non-zero exit for cron or CI. Our exception messages carry counts and names, never personal data.
        typer.echo(f"flow {flow} failed: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_counts_or_text))


@app.command("serve")
def serve(limit: Annotated[int | None, typer.Option(help="Max concurrent runs.")] = None) -> None:
    """Serve the `daily` schedule and every sub-flow deployment from this process: one machine, no work pool.

    Needs a running Prefect server (`prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api);
    refuses deployments that a work pool's workers run (production: deployments/prefect.yaml). Stop it
    before `prefect deploy`.
    """
    _prefect_env()
    serving = importlib.import_module("flows.serve")
    try:
        serving.serve_all(limit=limit)
    except serving.ServeRefused as exc:
        typer.echo(f"junkan serve: refused: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("setup")
def setup(
    automations: Annotated[Path | None, typer.Option(
        help="Automations file (default: deployments/automations.yaml of this checkout).")] = None,
) -> None:
    """Create or update, on the Prefect server, the limits, the alert block and the automations.

    Idempotent: run it after every deployment (JUNKAN_LIMITS__*, JUNKAN_ALERTS__*; docs/operations.md).
    """
    _prefect_env()
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("junkan setup: PREFECT_API_URL is not set, so this sets up Prefect's local ephemeral "
                   "database (what `junkan run` uses), not a server", err=True)
    module = importlib.import_module("flows.setup")
    try:
        report = module.setup(run_settings(), automations or module.AUTOMATIONS_FILE)
    except module.SetupError as exc:
        typer.echo(f"junkan setup: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))


@app.command("demo")
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo database, CSV export and e-mails go.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Random seed for the sample company.")] = 7,
) -> None:
    """Generate a Japanese sample company in a fresh SQLite database and run `daily` end to end."""
    _prefect_env()
    from junkan.demo.run import run_demo

    summary = run_demo(workdir, seed=seed, run_flow=run_flow)
    typer.echo(summary)


def _counts_or_text(value: object) -> object:
    """A flow's result (flows/results.py FlowResult) prints as its counts and flags, as before."""
    return dict(value) if isinstance(value, Mapping) else str(value)


def main() -> None:
    sys.exit(app())
