"""Times one whole `daily` run on the demo company, Prefect's server start included.

Also counts the task runs that one run creates: batching keeps it under 100 whatever the number of
candidates. Prints figures; never run as a test.

    python bench/daily.py [--n 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="junkan-bench-daily-"))
    # A fresh PREFECT_HOME isolates the count and measures the worst case: a cold server start.
    os.environ["PREFECT_HOME"] = str(tmp / "prefect-home")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

    from junkan.cli import run_flow
    from junkan.demo.run import demo_days, prepare_demo

    _day1, day = demo_days(datetime.now(ZoneInfo("Asia/Tokyo")))
    _db, stats = prepare_demo(tmp / "demo", seed=args.seed, day=day)
    started = time.perf_counter()
    state = run_flow("daily", day, False)
    wall = time.perf_counter() - started

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        task_runs = 0
        while page := client.read_task_runs(limit=200, offset=task_runs):
            task_runs += len(page)
        flow_runs = client.count_flow_runs()
    rss_mb = psutil.Process().memory_info().rss / 2**20
    print(f"demo company: {stats.applications} applications, run date {day}")
    print(f"daily wall time (server start included): {wall:.1f} s   goal < 60 s")
    print(f"flow runs: {flow_runs}   task runs: {task_runs}   goal < 100 task runs")
    print(f"RSS at end: {rss_mb:.0f} MB")
    print(f"result keys: {sorted(state) if isinstance(state, dict) else state}")


if __name__ == "__main__":
    main()
