"""A real Prefect server, the CLI and a process-pool worker, as an operator runs them (docs/operations.md).

Every process is started in its own session, so that stopping it (SIGTERM) or killing it (SIGKILL) reaches
the whole process group, and nothing outlives the test session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

#: The checkout whose flows are deployed: deployments/prefect.yaml's pull step changes into $JUNKAN_HOME.
REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER_START_DEADLINE_S = 240.0
STOP_DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(check: Any, *, deadline_s: float, what: str, interval_s: float = 0.25) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` at the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not reached within {deadline_s:.0f} s")
        time.sleep(interval_s)  # polling a condition under a deadline, not a guessed wait


def stop_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM,
               deadline_s: float = STOP_DEADLINE_S) -> int:
    """Signal the process group of `proc` and wait for `proc` to exit; SIGKILL if it does not in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=deadline_s)
    return int(proc.returncode)


class PrefectServer:
    """`prefect server start` on a free loopback port with a temporary PREFECT_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.log_path = home / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """What every Prefect process of this test needs: this server, this home, no analytics."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JUNKAN_"))}
        return {
            **base,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            # No scheduled runs: `daily`'s 09:00 schedule must not start a run of its own mid-test.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
            # A killed run's `junkan-send` lease (JUNKAN_LIMITS__SEND_LEASE_S) is revoked soon after it
            # expires, as the repossessor does every 15 s by default.
            "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "2",
            # Leases on disk, as docs/operations.md asks of a server: they survive its restart.
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
            # Our code first: the venv's editable install may point at another checkout.
            "PYTHONPATH": str(REPO_ROOT),
        }

    def start(self) -> PrefectServer:
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.home,
        )
        _wait_until(self._healthy, deadline_s=SERVER_START_DEADLINE_S, what="Prefect server /api/health")
        return self

    def _healthy(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise AssertionError(f"prefect server exited {self._proc.returncode}: {self.log_tail()}")
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        assert self._proc is not None
        code = stop_group(self._proc)
        self._proc = None
        return code

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cli(self, *args: str, env: Mapping[str, str] | None = None, timeout_s: float = 300) -> str:
        """Run `prefect ARGS` against this server from the checkout; fail with its output if it fails."""
        done = subprocess.run(
            [str(BIN / "prefect"), *args], env={**self.env, **(env or {})}, cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=timeout_s, check=False,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)} exited {done.returncode}:\n" \
                                     f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def setup(self) -> None:
        """`junkan setup`, as the README says to run once per server: the sending slot and provider limits."""
        done = subprocess.run(
            [str(BIN / "junkan"), "setup"], env={**self.env, "PYTHONPATH": str(REPO_ROOT)}, cwd=self.home,
            capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, f"junkan setup exited {done.returncode}:\n{done.stdout[-3000:]}\n" \
                                     f"{done.stderr[-3000:]}"

    def deploy(self) -> None:
        """The README's steps: a process work pool `junkan`, then every deployment of prefect.yaml."""
        self.cli("work-pool", "create", "junkan", "--type", "process", "--overwrite")
        self.cli("--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml",
                 env={"JUNKAN_HOME": str(REPO_ROOT)})


class Worker:
    """`prefect worker start --pool junkan --type process` with the JUNKAN_* settings of one scenario."""

    def __init__(self, server: PrefectServer, settings_env: Mapping[str, str], log_path: Path) -> None:
        self.server = server
        self.env = {
            **server.env,
            **settings_env,
            "JUNKAN_HOME": str(REPO_ROOT),
            # Pick up a scheduled run within a second, not the default ten.
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "0",
        }
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "junkan", "--type", "process"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO_ROOT,
        )
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def kill(self, flow_run_pids: list[int]) -> None:
        """SIGKILL the worker's process group and each flow run's (the process worker starts every flow
        run in a session of its own)."""
        for pid in flow_run_pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        assert self._proc is not None
        stop_group(self._proc, signal.SIGKILL)
        self._proc = None

    def stop(self) -> int:
        assert self._proc is not None
        code = stop_group(self._proc)
        self._proc = None
        return code

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def run_pid(infrastructure_pid: str | None) -> int | None:
    """The flow run's process id from the `infrastructure_pid` the worker recorded (`pid` or `host:pid`)."""
    if not infrastructure_pid:
        return None
    tail = infrastructure_pid.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def flow_run_id(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
