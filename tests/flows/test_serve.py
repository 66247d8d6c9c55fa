"""`junkan serve` offers the same deployments as deployments/prefect.yaml."""

from __future__ import annotations

from flows.registry import FLOWS, SCHEDULED, TIMEZONE
from flows.serve import build_deployments


def test_serve_builds_daily_on_schedule_and_every_sub_flow_on_demand() -> None:
    deployments = {d.name: d for d in build_deployments()}
    assert set(deployments) == {"daily", *FLOWS, *SCHEDULED}
    daily = deployments["daily"]
    assert len(daily.schedules) == 1
    schedule = daily.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 9 * * *", "Asia/Tokyo")
    for name in FLOWS:
        assert not deployments[name].schedules
        assert deployments[name].flow_name == name
    for name, (_, cron) in SCHEDULED.items():
        (only,) = deployments[name].schedules
        assert (only.schedule.cron, only.schedule.timezone) == (cron, TIMEZONE)
        assert deployments[name].flow_name == name
