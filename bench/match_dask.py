"""`bench/match.py --dask`: the same matcher input three ways, with wall time and peak memory of each.

1. in process, one product over the whole eligible pool (what `match.py` always times);
2. partitioned, one partition after another in this process (`JUNKAN_RECONTACT__TASK_RUNNER=thread`);
3. partitioned on a local Dask cluster (`JUNKAN_RECONTACT__TASK_RUNNER=dask`): `--dask-workers` worker
   processes with one thread each, every partition one `match-partition` Prefect task submitted through
   prefect-dask, against the Prefect API at PREFECT_API_URL or else a temporary server started (and timed)
   beforehand.

Each result is compared with the first, pair by pair. Peak memory: this process's RSS sampled every 10 ms
during the phase (psutil), and each Dask worker's own peak (VmHWM; the workers start fresh).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Peak RSS (MB) of this process while the block runs, sampled every 10 ms."""
    import psutil

    proc, out, done = psutil.Process(), {"mb": 0.0}, threading.Event()

    def sample() -> None:
        while not done.is_set():
            out["mb"] = max(out["mb"], proc.memory_info().rss / 2**20)
            done.wait(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield out
    finally:
        done.set()
        t.join()


def _worker_peak_mb() -> float:
    """VmHWM, not ru_maxrss: a spawned worker's ru_maxrss keeps the parent's peak from before exec."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def same(a: Any, b: Any) -> bool:
    return bool(len(a) == len(b) and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in
                                         ("target", "cand", "rank", "score", "required", "preferred",
                                          "text", "location", "potential")))


def compare(run: Callable[..., Any], reference: Any, settings: Any, *, partition_size: int,
            workers: int) -> None:
    """`run(partition_size=…, map_partitions=…)` is the matcher call `match.py` timed as `reference`."""
    from distributed import Client, LocalCluster
    from prefect.testing.utilities import prefect_test_harness

    from tasks.recontact import on_task_runner

    print(f"partitions of {partition_size:,} eligible people:")
    with peak_rss() as mem:
        started = time.perf_counter()
        parts = run(partition_size=partition_size, map_partitions=None)
        took = time.perf_counter() - started
    print(f"  in this process, one after another   {took:7.2f} s, peak RSS {mem['mb']:,.0f} MB, "
          f"{parts.partitions} partitions, identical to one product: {same(parts, reference)}")

    started = time.perf_counter()
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    # The partition tasks run outside a flow run here, so they have no run to attach API logs to.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    own_api = os.environ.get("PREFECT_API_URL")
    server = nullcontext() if own_api else prefect_test_harness(server_startup_timeout=180)
    with server, \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None, env={"PYTHONPATH": path}) as cluster, \
            Client(cluster) as client:
        print(f"  Prefect API + {workers}-worker Dask cluster up in "
              f"{time.perf_counter() - started:.1f} s (not counted below)")
        rc = settings.recontact.model_copy(update={"task_runner": "dask",
                                                   "dask_address": cluster.scheduler_address})
        dask_settings = settings.model_copy(update={"recontact": rc})
        with peak_rss() as mem:
            started = time.perf_counter()
            found = run(partition_size=partition_size, map_partitions=on_task_runner(dask_settings))
            took = time.perf_counter() - started
        peaks = client.run(_worker_peak_mb)
    print(f"  on Dask, {workers} workers × 1 thread        {took:7.2f} s, peak RSS {mem['mb']:,.0f} MB here, "
          f"workers {', '.join(f'{v:,.0f}' for v in peaks.values())} MB, identical: {same(found, reference)}")
