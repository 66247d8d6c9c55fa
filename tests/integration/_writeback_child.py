"""Runs one write-back in a child process (spawned by the crash test, which SIGKILLs it mid-batch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.ats.writeback import GreenhouseWriter
from junkan.config import Settings
from junkan.db import make_engine
from junkan.pool import writeback
from tests.fakes._common import FakeClock, client_for
from tests.integration._pool_data import NOW
from tests.integration._writeback_support import TAG


def child_write_back(database_url: str, ats: dict[str, Any], tmp: str, run_id: int) -> None:
    settings = Settings(database_url=database_url, ats=ats, links={"secret": "wb-secret"},
                        recontact={"shortlist_dir": Path(tmp) / "shortlists", "writeback": {"batch_size": 3}},
                        _env_file=None)  # type: ignore[call-arg]
    clock = FakeClock()
    auth = GreenhouseAuth(auth_url=ats["auth_url"], client_id=ats["client_id"],
                          client_secret=ats["client_secret"], user_id=ats["user_id"], clock=clock)
    writer = GreenhouseWriter(client_for("greenhouse", clock), base_url=ats["base_url"], auth=auth,
                              user_id=ats["user_id"], tag_name=TAG)
    writeback.run(make_engine(database_url), settings, writer, run_id=run_id, now=NOW)
