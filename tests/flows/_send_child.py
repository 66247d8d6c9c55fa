"""One `send-rejections` run in a process of its own (tests/flows/test_two_senders.py starts two).

Says `ready` once Prefect and the flow are imported, waits for `go` on standard input so that both
processes start sending together, then prints the flow's counts as one JSON line. Settings come from the
JUNKAN_* environment and the Prefect API from PREFECT_API_URL, as on a worker.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime


def main() -> int:
    from prefect import flow

    from junkan.outbox.notices import flow_counts
    from junkan.runtime import simulated_time
    from tasks.notify import enqueue_notices_task, send_notices_task

    # send-rejections' own tasks, without the sending slot its flow takes (flows/overlap.py): the two
    # runs must overlap for the test to show what the outbox claims alone do.
    @flow(name="send-rejections-unguarded")
    def send_rejections(as_of: date) -> dict[str, int]:
        return flow_counts(enqueue_notices_task(as_of=as_of), send_notices_task(as_of=as_of), dry_run=False)

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    # The real clock of the run: argv[2], a moment inside the sending window.
    with simulated_time(datetime.fromisoformat(sys.argv[2])):
        counts = send_rejections(as_of=date.fromisoformat(sys.argv[1]))
    print("counts " + json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
