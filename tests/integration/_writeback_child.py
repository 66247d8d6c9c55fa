"""Runs one write-back in a child process (spawned by the crash tests, which SIGKILL it mid-batch)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.ats.writeback import AtsWriter, GreenhouseWriter, LeverWriter
from junkan.config import Settings
from junkan.db import make_engine
from junkan.pool import writeback
from tests.fakes._common import FakeClock, RecordedRequest, VendorFake, client_for
from tests.integration._outbox_child import child_url, wait_for_child_backends_to_end
from tests.integration._pool_data import NOW
from tests.integration._writeback_support import PERFORM_AS, TAG


def child_write_back(database_url: str, ats: dict[str, Any], tmp: str, run_id: int,
                     switches: dict[str, Any] | None = None) -> None:
    """`ats`: the JUNKAN_ATS__* settings of the fake (kind greenhouse or lever); `switches`: write-back
    settings besides a batch of 3."""
    wb = {"batch_size": 3, **(switches or {})}
    if ats["kind"] == "lever":
        wb.setdefault("perform_as", PERFORM_AS)
    settings = Settings(database_url=database_url, ats=ats, links={"secret": "wb-secret"},
                        recontact={"shortlist_dir": Path(tmp) / "shortlists", "writeback": wb},
                        _env_file=None)  # type: ignore[call-arg]
    clock = FakeClock()
    writer: AtsWriter
    if ats["kind"] == "greenhouse":
        auth = GreenhouseAuth(auth_url=ats["auth_url"], client_id=ats["client_id"],
                              client_secret=ats["client_secret"], user_id=ats["user_id"], clock=clock)
        writer = GreenhouseWriter(client_for("greenhouse", clock), base_url=ats["base_url"], auth=auth,
                                  tag_name=TAG)
    else:
        writer = LeverWriter(client_for("lever", clock), base_url=ats["base_url"], api_key=ats["api_key"],
                             perform_as=PERFORM_AS, tag_name=TAG)
    writeback.run(make_engine(database_url), settings, writer, run_id=run_id, now=NOW)


def kill_mid_write_back(fake: VendorFake, engine: Engine, database_url: str, ats: dict[str, Any], tmp: Path,
                        run_id: int, *, kill_after: int, switches: dict[str, Any] | None = None) -> None:
    """Runs `child_write_back` in a child process and SIGKILLs it while the fake holds its answer to
    the `kill_after`-th write: made in the ATS, not recorded in Junkan, the hardest case. Returns once
    the child's database work has ended."""
    reached, released, writes = threading.Event(), threading.Event(), Counter[str]()

    def count(line: RecordedRequest) -> None:
        if line.method == "POST" and not line.path.endswith("/token"):
            writes["n"] += 1
            if writes["n"] == kill_after:
                reached.set()
                released.wait(timeout=60)

    fake.on_request = count
    child_name = f"junkan-writeback-child-{os.getpid()}"
    proc = multiprocessing.get_context("spawn").Process(
        target=child_write_back, args=(child_url(database_url, child_name), ats, str(tmp), run_id, switches))
    proc.start()
    try:
        assert reached.wait(timeout=120), "the child never got going"
        os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
        proc.join(timeout=30)
    finally:
        released.set()
        fake.on_request = None
    assert proc.exitcode == -signal.SIGKILL
    wait_for_child_backends_to_end(engine, child_name)
