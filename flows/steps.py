"""The steps deployments/prefect.yaml runs.

- `enter_junkan_home` (pull): a worker starting a run changes into the checkout named by JUNKAN_HOME, and
  says so plainly when it is not set, instead of `[Errno 2] No such file or directory: ''`. The step runs
  before the flow exists, so its exception reaches only the worker's own output, and the run then ends
  `Crashed` with "Process exited with status code: 1" (and a FileNotFoundError about Prefect's
  workspace.json from the crash hooks). So the step first sets the run Failed with the one line itself:
  that state message is what the UI shows, and the worker's later Crashed proposal cannot replace it.
- `warn_about_served` (build): `prefect deploy` warns before it takes over deployments that a
  `junkan serve` process created (same names, so the same deployments on the server).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.objects import State
from prefect.states import Failed

from flows import catalog, ownership

HOME_VARIABLE = "JUNKAN_HOME"

#: Served deployments already warned about in this `prefect deploy` process (build steps run once per
#: deployment; `--all` would repeat the same warning for each).
_warned: set[str] = set()


class JunkanHomeMissing(RuntimeError):
    """The worker cannot find the checkout to run Junkan's flows from."""


def enter_junkan_home() -> dict[str, str]:
    home = os.environ.get(HOME_VARIABLE, "").strip()
    if not home:
        raise _fail_the_run(JunkanHomeMissing(
            f"{HOME_VARIABLE} is not set in the worker's environment: it names the Junkan checkout (with "
            "flows/ and your junkan.toml) that runs execute in. Start the worker as "
            f"`{HOME_VARIABLE}=/path/to/junkan prefect worker start --pool {catalog.WORK_POOL}`."
        ))
    path = Path(home).expanduser()
    if not (path / "flows").is_dir():
        raise _fail_the_run(JunkanHomeMissing(f"{HOME_VARIABLE}={home} is not a Junkan checkout: there is no "
                                              "flows/ directory in it"))
    os.chdir(path)
    return {"directory": str(path)}


def _fail_the_run(exc: JunkanHomeMissing) -> JunkanHomeMissing:
    """Set the run being started Failed with the exception's line as its state message; returns `exc`."""
    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    if not run_id:
        return exc
    try:
        with get_client(sync_client=True) as client:
            reason: State[None] = Failed(message=f"{type(exc).__name__}: {exc}")
            client.set_flow_run_state(UUID(run_id), reason, force=True)
    except Exception as unreported:
        print(f"could not record the reason on flow run {run_id}: {unreported}", file=sys.stderr)
    return exc


def warn_about_served() -> dict[str, list[str]]:
    served = ownership.served(catalog.full_names())
    fresh = [name for name in served if name not in _warned]
    if fresh:
        print(
            f"WARNING: {', '.join(fresh)} were created by `junkan serve`. Deploying gives them to work pool "
            f"{catalog.WORK_POOL!r}: its workers run them from now on, and a `junkan serve` still running "
            "would run them too, from its own checkout. Stop `junkan serve` first, and run "
            f"`prefect worker start --pool {catalog.WORK_POOL}` with JUNKAN_HOME set.",
            file=sys.stderr,
        )
        _warned.update(fresh)
    return {"served": served}
