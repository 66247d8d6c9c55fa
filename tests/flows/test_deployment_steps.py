"""The steps deployments/prefect.yaml runs, through Prefect's own step runner (issue 14 §1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from prefect.deployments.steps.core import StepExecutionError, run_steps

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
