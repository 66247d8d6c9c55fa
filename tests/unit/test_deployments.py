"""deployments/prefect.yaml and `junkan serve` describe the same deployments as flows/registry.py."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from flows.registry import FLOWS, SCHEDULED, TIMEZONE

ROOT = Path(__file__).resolve().parents[2]


def _deployments() -> dict[str, dict]:
    doc = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in doc["deployments"]}


def test_daily_is_scheduled_at_nine_tokyo_time() -> None:
    daily = _deployments()["daily"]
    assert daily["schedules"] == [{"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}]
    assert "schedule" not in daily  # the pre-3.x key Prefect ignores
    assert daily["work_pool"]["name"] == "junkan"


def test_every_registered_flow_has_a_manual_deployment_without_schedule() -> None:
    deps = _deployments()
    assert set(deps) == {*FLOWS, *SCHEDULED, "daily"}
    for name, target in FLOWS.items():
        module, func = target.split(":")
        assert deps[name]["entrypoint"] == f"{module.replace('.', '/')}.py:{func}"
        assert not deps[name].get("schedules")
        assert deps[name]["concurrency_limit"] == 1


def test_entrypoints_name_flow_functions_that_exist() -> None:
    for dep in _deployments().values():
        path, func = dep["entrypoint"].split(":")
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert func in names, dep["entrypoint"]


def test_flows_outside_daily_are_deployed_on_their_own_schedule() -> None:
    deps = _deployments()
    assert SCHEDULED["roi-report"][1] == "0 9 1 * *"  # the 1st of the month, 09:00
    for name, (target, cron) in SCHEDULED.items():
        module, func = target.split(":")
        assert name not in FLOWS  # not part of daily's sequence
        assert deps[name]["entrypoint"] == f"{module.replace('.', '/')}.py:{func}"
        assert deps[name]["schedules"] == [{"cron": cron, "timezone": TIMEZONE}]
        assert deps[name]["concurrency_limit"] == 1
