"""The steps deployments/prefect.yaml runs, through Prefect's own step runner (issue 14 §1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from prefect import flow, get_client
from prefect.deployments.steps.core import StepExecutionError, run_steps
from prefect.states import Crashed, Pending

ROOT = Path(__file__).resolve().parents[2]


def _pull_steps() -> list[dict]:
    return yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))["pull"]


def test_the_pull_step_says_that_junkan_home_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUNKAN_HOME", raising=False)
    with pytest.raises(StepExecutionError) as caught:
        asyncio.run(run_steps(_pull_steps()))
    # What the worker logs for the run (Prefect logs the step's own exception).
    message = str(caught.value.__cause__)
    assert message.startswith("JUNKAN_HOME is not set in the worker's environment")
    assert "JUNKAN_HOME=/path/to/junkan prefect worker start --pool junkan" in message


def test_the_pull_step_refuses_a_directory_that_is_no_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUNKAN_HOME", str(tmp_path))
    with pytest.raises(StepExecutionError) as caught:
        asyncio.run(run_steps(_pull_steps()))
    assert str(caught.value.__cause__) == f"JUNKAN_HOME={tmp_path} is not a Junkan checkout: there is no " \
                                          "flows/ directory in it"


def test_the_pull_step_enters_junkan_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "junkan"
    (home / "flows").mkdir(parents=True)
    monkeypatch.setenv("JUNKAN_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    output = asyncio.run(run_steps(_pull_steps()))
    assert output["directory"] == str(home)
    assert Path.cwd() == home


@flow(name="junkan-home-probe")
def _probe() -> None:
    """Never runs: a worker without JUNKAN_HOME fails before the flow is loaded."""


def test_without_junkan_home_the_flow_run_state_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker starts a run's pull steps with the run's id in PREFECT__FLOW_RUN_ID; when they fail, it then
    # proposes Crashed ("Process exited with status code: 1") and its crash hooks fail reading workspace.json.
    monkeypatch.delenv("JUNKAN_HOME", raising=False)
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_probe, state=Pending())
        monkeypatch.setenv("PREFECT__FLOW_RUN_ID", str(run.id))
        with pytest.raises(StepExecutionError):
            asyncio.run(run_steps(_pull_steps()))
        client.set_flow_run_state(run.id, Crashed(message="Process exited with status code: 1."))
        state = client.read_flow_run(run.id).state

    assert state is not None and state.is_failed()
    assert state.message is not None
    assert state.message.startswith("JunkanHomeMissing: JUNKAN_HOME is not set in the worker's environment")
    assert "JUNKAN_HOME=/path/to/junkan prefect worker start --pool junkan" in state.message
