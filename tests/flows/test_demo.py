"""`make demo` end to end: the sample company is ingested and the notices are readable .eml files."""

from __future__ import annotations

import os
from email import policy
from email.parser import BytesParser
from pathlib import Path
from unittest import mock

from junkan.cli import run_flow
from junkan.demo.run import run_demo


def test_demo_runs_daily_and_writes_japanese_notices(tmp_path: Path) -> None:
    with mock.patch.dict(os.environ):
        summary = run_demo(tmp_path / "demo", seed=11, run_flow=run_flow)

    # Of the three broken rows, the one without an @ is still a decision: stored, listed for review.
    assert "quarantined:  2 malformed rows" in summary
    assert "no address:   1 decisions stored without a usable address" in summary
    emails = sorted((tmp_path / "demo" / "outbox").glob("*.eml"))
    assert emails, summary
    msg = BytesParser(policy=policy.default).parsebytes(emails[0].read_bytes())
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "ご応募" in body  # a Japanese notice, decoded correctly
    assert msg["To"] and "@" in str(msg["To"])
    assert "junkan.db" in summary
