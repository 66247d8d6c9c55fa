"""`junkan serve` and `prefect deploy` against one real Prefect API (the test harness): the same deployments,
and neither takes the other's over silently (issue 14 §1)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from prefect import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from flows import catalog, ownership, steps
from flows.serve import (
    ServeRefused,
    build_deployments,
    check_can_serve,
    prepare_server,
)
from junkan.cli import app
from junkan.config import get_settings
from tasks.limits import ATS_LIMIT, SEND_LIMIT, SENDGRID_LIMIT, ensure_limits


@pytest.fixture
def clean_server() -> Iterator[None]:
    """None of Junkan's deployments on the server before or after the test; the `junkan` pool exists."""

    def wipe() -> None:
        with get_client(sync_client=True) as client:
            for name in catalog.full_names():
                try:
                    client.delete_deployment(client.read_deployment_by_name(name).id)
                except ObjectNotFound:
                    continue

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=catalog.WORK_POOL, type="process"))
    wipe()
    steps._warned.clear()
    yield
    wipe()


def _served(name: str) -> None:
    """What `junkan serve` registers for `name` (without starting a runner)."""
    (deployment,) = [d for d in build_deployments() if d.name == name]
    deployment.apply()


def _deployed(name: str) -> None:
    """What `prefect deploy` makes of `name`: the same deployment, given to the work pool."""
    (entry,) = [e for e in catalog.entries() if e.name == name]
    entry.load().to_deployment(name=name, work_pool_name=catalog.WORK_POOL).apply()


def test_serve_builds_the_catalog_with_schedules_tags_and_the_flows_descriptions() -> None:
    deployments = {d.name: d for d in build_deployments()}
    assert list(deployments) == [e.name for e in catalog.entries()]
    for entry in catalog.entries():
        built = deployments[entry.name]
        assert built.flow_name == entry.name
        assert built.tags == list(entry.tags)
        assert built.concurrency_limit == 1
        assert built.enforce_parameter_schema is True
        assert built.description == entry.load().description
        if entry.cron:
            (only,) = built.schedules
            assert (only.schedule.cron, only.schedule.timezone) == (entry.cron, "Asia/Tokyo")
        else:
            assert not built.schedules
    assert deployments["daily"].schedules[0].schedule.cron == "0 9 * * *"
    assert deployments["roi-report"].schedules[0].schedule.cron == "0 9 1 * *"


def test_serve_refuses_to_start_without_a_prefect_server() -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "junkan serve: refused: PREFECT_API_URL is not set" in result.output
    assert "prefect server start" in result.output


def test_serve_refuses_a_server_that_does_not_answer() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}), \
            pytest.raises(ServeRefused, match=r"the Prefect API at http://127.0.0.1:9/api does not answer"):
        check_can_serve(catalog.full_names())


def test_serve_refuses_deployments_that_belong_to_the_work_pool(clean_server: None) -> None:
    _deployed("daily")
    with pytest.raises(ServeRefused) as refused:
        check_can_serve(catalog.full_names())
    assert str(refused.value).startswith("daily/daily belongs to work pool junkan")
    assert "prefect deployment delete" in str(refused.value)
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("daily/daily").work_pool_name == catalog.WORK_POOL


def test_serve_starts_over_its_own_deployments(clean_server: None) -> None:
    _served("daily")
    check_can_serve(catalog.full_names())  # no error: a restarted serve takes its own back


def test_serve_sets_the_concurrency_limits_its_flows_need(
    clean_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [SEND_LIMIT, SENDGRID_LIMIT, ATS_LIMIT]
    with get_client(sync_client=True) as client:
        for name in names:
            with contextlib.suppress(ObjectNotFound):
                client.delete_global_concurrency_limit_by_name(name)
    monkeypatch.setenv("JUNKAN_LIMITS__SENDGRID_PER_SECOND", "7")
    try:
        assert prepare_server(catalog.full_names()) == names
        with get_client(sync_client=True) as client:
            found = {n: client.read_global_concurrency_limit_by_name(n) for n in names}
    finally:
        # The harness server is shared by the later flow tests: give it back the default rate.
        monkeypatch.delenv("JUNKAN_LIMITS__SENDGRID_PER_SECOND")
        ensure_limits(get_settings())
    assert {n: limit.limit for n, limit in found.items()} == {SEND_LIMIT: 1, SENDGRID_LIMIT: 7, ATS_LIMIT: 5}
    assert found[SENDGRID_LIMIT].slot_decay_per_second == 7


def test_stopping_serve_pauses_only_what_it_still_serves(clean_server: None) -> None:
    _served("recontact")
    _served("daily")
    _deployed("daily")  # taken over by `prefect deploy` while serve ran
    paused, left = ownership.pause_served(catalog.full_names())
    assert paused == ["recontact/recontact"]
    assert left == {"daily/daily": catalog.WORK_POOL}
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("daily/daily").paused is False
        assert client.read_deployment_by_name("recontact/recontact").paused is True


def test_deploy_warns_once_about_deployments_that_serve_created(
    clean_server: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _served("daily")
    _served("send-rejections")
    assert steps.warn_about_served() == {"served": ["daily/daily", "send-rejections/send-rejections"]}
    steps.warn_about_served()  # `--all` runs the build step once per deployment
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1
    assert "WARNING: daily/daily, send-rejections/send-rejections were created by `junkan serve`" in err
    assert "Stop `junkan serve` first" in err


def test_deploy_says_nothing_when_nothing_is_served(
    clean_server: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _deployed("daily")
    assert steps.warn_about_served() == {"served": []}
    assert capsys.readouterr().err == ""
