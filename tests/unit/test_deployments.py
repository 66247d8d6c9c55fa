"""deployments/prefect.yaml says what flows/catalog.py says; `junkan serve` builds from it (issue 14 §1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from flows import catalog

ROOT = Path(__file__).resolve().parents[2]


def _document() -> dict:
    return yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))


def _deployments() -> dict[str, dict]:
    return {d["name"]: d for d in _document()["deployments"]}


def test_prefect_yaml_lists_the_catalog_in_its_order() -> None:
    names = [d["name"] for d in _document()["deployments"]]
    assert names == [e.name for e in catalog.entries()]
    assert set(names) == set(catalog.flow_names())


@pytest.mark.parametrize("entry", catalog.entries(), ids=lambda e: e.name)
def test_each_deployment_matches_its_catalog_entry(entry: catalog.Entry) -> None:
    dep = _deployments()[entry.name]
    assert dep["entrypoint"] == entry.entrypoint
    expected = [{"cron": entry.cron, "timezone": "Asia/Tokyo"}] if entry.cron else None
    assert dep.get("schedules") == expected
    assert "schedule" not in dep  # the pre-3.x key Prefect ignores
    assert dep["tags"] == list(entry.tags)
    assert dep["concurrency_limit"] == entry.concurrency_limit == 1
    assert dep["work_pool"] == {"name": catalog.WORK_POOL, "work_queue_name": catalog.WORK_QUEUE}
    assert dep["enforce_parameter_schema"] is True
    # The description is the flow's own, which `prefect deploy` and `serve` both fall back to.
    assert "description" not in dep


def test_the_schedules_are_daily_at_nine_and_the_report_on_the_first() -> None:
    deps = _deployments()
    assert deps["daily"]["schedules"] == [{"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}]
    assert deps["roi-report"]["schedules"] == [{"cron": "0 9 1 * *", "timezone": "Asia/Tokyo"}]
    for name in (e.name for e in catalog.IN_DAILY):
        assert "schedules" not in deps[name], name


@pytest.mark.parametrize("entry", catalog.entries(), ids=lambda e: e.name)
def test_every_flow_has_the_deployment_name_and_a_description(entry: catalog.Entry) -> None:
    flow = entry.load()
    assert flow.name == entry.name
    assert flow.description and len(flow.description) > 40
    path, func = entry.entrypoint.split(":")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert func in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_deploy_runs_the_served_check_and_workers_the_junkan_home_step() -> None:
    doc = _document()
    assert doc["build"] == [{"flows.steps.warn_about_served": {}}]
    assert doc["pull"] == [{"flows.steps.enter_junkan_home": {}}]
