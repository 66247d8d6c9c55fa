"""The parameter forms of every deployment, checked against a real Prefect API (issue 14 §2).

The UI draws a form from each deployment's parameter schema, and the API checks a new run's parameters
against it: a bad value is refused when the run is created, not when it starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

from flows import catalog
from flows.serve import build_deployments


@pytest.fixture(scope="module")
def deployment_ids() -> Iterator[dict[str, UUID]]:
    ids = {d.name: d.apply() for d in build_deployments()}
    yield ids
    with get_client(sync_client=True) as client:
        for deployment_id in ids.values():
            try:
                client.delete_deployment(deployment_id)
            except ObjectNotFound:
                continue


def _schema(deployment_id: UUID) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        return client.read_deployment(deployment_id).parameter_openapi_schema  # type: ignore[return-value]


@dataclass(frozen=True)
class Form:
    """One deployment's run form: its name, its id on the API, and the parameter schema the UI draws."""

    name: str
    deployment_id: UUID
    schema: dict[str, Any]


@pytest.fixture(params=[e.name for e in catalog.entries()])
def form(request: pytest.FixtureRequest, deployment_ids: dict[str, UUID]) -> Form:
    """Every deployment's form in turn: a test taking it runs once per deployment."""
    deployment_id = deployment_ids[request.param]
    return Form(request.param, deployment_id, _schema(deployment_id))


def _branch(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an optional parameter, with a `$ref` resolved."""
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
    (only,) = branches
    if "$ref" in only:
        return schema["definitions"][only["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
    return only


def test_every_parameter_has_a_described_typed_field_with_a_default(form: Form) -> None:
    name, schema = form.name, form.schema
    assert not schema.get("required")  # a scheduled run passes no parameters
    assert schema["properties"], name
    for param, prop in schema["properties"].items():
        assert prop.get("description"), f"{name}.{param} has no description"
        # A value to start from, or none (the field starts empty and is not sent): never a null the form
        # would put in the field and then refuse.
        assert prop.get("default", "absent") is not None, f"{name}.{param} starts as null"
        branch = _branch(prop, schema)
        assert branch.get("type") in {"string", "boolean", "object", "integer"}, (name, param, branch)
        if param == "as_of":
            assert branch["format"] == "date" and branch["pattern"], (name, branch)
        if param in {"dry_run", "full_refresh", "recompute"}:
            assert branch["type"] == "boolean" and prop["default"] is False


def test_the_forms_offer_choices_and_the_report_period(deployment_ids: dict[str, UUID]) -> None:
    report = _schema(deployment_ids["roi-report"])
    assert report["properties"]["lang"]["enum"] == ["ja", "en"]
    period = _branch(report["properties"]["period"], report)
    assert period["required"] == ["start", "end"]
    for end in ("start", "end"):
        assert period["properties"][end]["format"] == "date" and period["properties"][end]["description"]
    recontact = _schema(deployment_ids["recontact"])
    assert _branch(recontact["properties"]["mode"], recontact)["enum"] == ["shortlist", "auto"]
    daily = _schema(deployment_ids["daily"])
    # The form says what a dry run of `daily` still does for real.
    assert "ingest-decisions stores the ATS's decisions" in daily["properties"]["dry_run"]["description"]


def _create_run(deployment_id: UUID, parameters: dict[str, Any]) -> UUID:
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
        client.delete_flow_run(run.id)  # never executed: nothing serves it here
        return run.id


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("daily", {"as_of": "2026-13-01"}),
        ("daily", {"as_of": "2026-02-30"}),
        ("daily", {"as_of": "25/11/2026"}),
        ("daily", {"dry_run": "yes"}),
        ("send-rejections", {"as_of": "2026-11-31"}),
        ("recontact", {"mode": "sometimes"}),
        ("roi-report", {"lang": "fr"}),
        ("roi-report", {"period": {"start": "2026-10-01"}}),
        ("roi-report", {"period": {"start": "2026-10-01", "end": "2026-10-32"}}),
    ],
)
def test_an_invalid_value_is_refused_when_the_run_is_created(
    name: str, parameters: dict[str, Any], deployment_ids: dict[str, UUID]
) -> None:
    with pytest.raises(PrefectHTTPStatusError) as refused:
        _create_run(deployment_ids[name], parameters)
    assert refused.value.response.status_code == 409
    assert "Validation failed" in refused.value.response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("daily", {"as_of": "2026-11-25", "dry_run": True}),
        ("daily", {"as_of": "2028-02-29"}),
        ("daily", {}),
        ("recontact", {"mode": "auto", "dry_run": True}),
        ("roi-report", {"period": {"start": "2026-10-01", "end": "2026-10-31"}, "lang": "en"}),
        ("roi-report", {"as_of": "2026-12-01"}),
        ("ingest-decisions", {"full_refresh": True}),
    ],
)
def test_a_valid_value_is_accepted(
    name: str, parameters: dict[str, Any], deployment_ids: dict[str, UUID]
) -> None:
    assert _create_run(deployment_ids[name], parameters)


def _null_branches(node: Any, path: str = "") -> list[str]:
    """Where the schema offers `null` as a choice: the UI draws it as a tab reading `Property is type
    "None"`, chosen for a `None` default."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "null" or (isinstance(node.get("type"), list) and "null" in node["type"]):
            found.append(path)
        for key, value in node.items():
            found += _null_branches(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _null_branches(value, f"{path}/{i}")
    return found


def test_no_parameter_that_may_stay_empty_offers_a_none_choice(form: Form) -> None:
    assert _null_branches(form.schema) == [], form.name
    # Left empty, the field is not sent and the flow's default (None: today, the previous month) applies;
    # a caller of the API may still pass None outright.
    assert _create_run(form.deployment_id, {})
    assert _create_run(form.deployment_id, {"as_of": None})


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_the_deployment_and_every_parameter_are_described_in_japanese_first(form: Form) -> None:
    name, schema = form.name, form.schema
    with get_client(sync_client=True) as client:
        described = client.read_deployment(form.deployment_id).description or ""
    texts = {"deployment": described}
    texts |= {param: prop["description"] for param, prop in schema["properties"].items()}
    for definition in schema.get("definitions", {}).values():
        texts |= {f"{definition['title']}.{p}": v["description"] for p, v in definition["properties"].items()}
    for what, text in texts.items():
        japanese, _, english = text.partition(" / ")
        assert _JAPANESE.search(japanese), (name, what, "does not start in Japanese")
        assert re.search(r"[A-Za-z]{3,} [a-z]+", english) and not _JAPANESE.search(english), (
            name, what, "no English after the Japanese")
