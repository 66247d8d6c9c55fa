"""Issue 24 §4, "then run recontact", without a browser: people open their page from the link in their real
rejection notice, save it through the web app's handler, and the next `recontact` run ranks, explains and
excludes as they chose (docs/pool.md "The person's own choices"), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.pool.recontact import match_and_store
from junkan.pool.refs import candidate_ref
from junkan.web import create_app
from tests.integration._pool_data import add_job, jst, pool_settings
from tests.integration._preference_support import Mailed, mail_a_rejection, page_settings

BASE = "https://jobs.example.co.jp"
#: Four months after the notices' rejections (16 November 2026): past three months, not past six.
RUN_AT = jst(2027, 3, 20, 10, 0)


async def _save(settings: Settings, mailed: Mailed, form: dict[str, str | list[str]]) -> None:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        path = urlsplit(mailed.link).path
        assert (await client.get(path)).status_code == 200
        saved = await client.post(path, data=form, headers={"Origin": BASE})
        assert saved.status_code == 200, saved.text


@pytest.mark.anyio
async def test_stated_interest_and_timing_change_the_ranking_and_the_exclusions(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cfg = pool_settings(page_settings(settings, BASE), threshold=0, shortlist_format="csv",
                        shortlist_dir=tmp_path / "shortlists")
    # The fifth person saves nothing: the default cooldown.
    sales, soon, never, late, _default, leaves = (mail_a_rejection(engine, cfg) for _ in range(6))
    stay = {"action": "save", "pool": "stay", "remote": "any"}
    await _save(cfg, sales, {**stay, "family": "corporate_sales", "timing": "3"})
    await _save(cfg, soon, {**stay, "timing": "3"})
    await _save(cfg, never, {**stay, "timing": "never"})
    await _save(cfg, late, {**stay, "timing": "12"})
    # Leaving the pool withdraws the talent_pool consent: out of the pool, whatever the timing.
    await _save(cfg, leaves, {"action": "save", "pool": "leave", "timing": "3", "family": "corporate_sales"})
    with session_scope(engine) as s:
        add_job(s, "法人営業", location="東京都", opened_at=RUN_AT - timedelta(days=2),
                external_id="SALES-2027")

    outcome = match_and_store(engine, cfg, RunClock.fixed(RUN_AT, as_of=RUN_AT.date()))

    assert outcome.csv_path is not None
    rows = list(csv.DictReader(io.StringIO(Path(outcome.csv_path).read_text(encoding="utf-8-sig"))))
    assert {r["求人ID"] for r in rows} == {"SALES-2027"}
    listed = [r["候補者ID"] for r in rows]
    # Both people who asked for three months are matched four months on; who wants 法人営業 comes first.
    assert listed == [candidate_ref(m.candidate_id, cfg.links) for m in (sales, soon)]
    first, second = (r["一致の理由"] for r in rows)
    assert first.startswith("ご本人の希望職種: 法人営業、ご本人の希望時期: 3か月後から")
    assert second.startswith("ご本人の希望時期: 3か月後から") and "希望職種" not in second
    scores = [float(r["スコア（0–100）"]) for r in rows]
    assert scores[0] == scores[1] + cfg.recontact.interest_bonus
    # Twelve months and the default six keep the other two waiting; "never" left the pool altogether
    # (the page withdrew its re-contact consent), and so did the person who left it.
    assert outcome.counts["excluded_cooldown"] == 2 and outcome.counts["pool"] == 4
    assert outcome.counts["eligible_pool"] == 2
