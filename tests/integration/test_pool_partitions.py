"""Partitioned matching: any partition size gives exactly the matches of one product over the whole pool,
and ties at the top-K cut go to the lowest candidate ids (the rule docs/pool.md states)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import session_scope
from junkan.pool.runs import RunPlan, plan_run
from tests.integration._pool_data import AS_OF, NOW, pool_settings
from tests.integration._pool_partition_data import add_partition_pool

COMPARED = ("job_id", "opening_id", "candidate_id", "rank", "score", "required_score", "preferred_score",
            "text_score", "location_score", "potential_score", "why", "bucket")


def _plan(engine: Engine, settings: Settings) -> RunPlan:
    with Session(engine) as session:
        plan = plan_run(session, settings, as_of=AS_OF, now=NOW, mode="shortlist")
        session.rollback()
    return plan


def rows_of(plan: RunPlan) -> list[tuple[Any, ...]]:
    return [tuple(r[k] for k in COMPARED) for r in plan.rows]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16])
def test_every_partition_size_gives_the_whole_pool_matches(engine: Engine, settings: Settings,
                                                          size: int) -> None:
    with session_scope(engine) as s:
        data = add_partition_pool(s)
    base = pool_settings(settings, top_k=5, threshold=20)
    whole = _plan(engine, base)
    parts = _plan(engine, pool_settings(base, partition_size=size))
    assert parts.matches.partitions == -(-data.members // size) > 1 and whole.matches.partitions == 1
    assert rows_of(parts) == rows_of(whole) and len(whole.rows) == 15
    assert parts.excluded["already_applied"] == whole.excluded["already_applied"] == 3
    # The semantic columns cross partitions too: the people who wrote their work in other words are listed.
    sales = {r["candidate_id"]: r for r in parts.rows if r["job_id"] == data.sales_job}
    assert set(data.synonyms) <= set(sales)
    # So does the bonus of a stated interest: the person who chose 法人営業 is listed for it, and told why.
    assert sales[data.synonyms[1]]["why"].startswith("ご本人の希望職種: 法人営業、")


def test_ties_at_the_cut_go_to_the_lowest_candidate_ids(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        data = add_partition_pool(s)
    for size in (250_000, 4):
        plan = _plan(engine, pool_settings(settings, top_k=5, threshold=20, partition_size=size))
        listed = [r for r in plan.rows if r["job_id"] == data.backend_job]
        twins = [r["candidate_id"] for r in listed if r["candidate_id"] in data.twins]
        # Ten people score exactly the same; the free places go to the lowest ids, in id order.
        assert twins and twins == sorted(data.twins)[:len(twins)] and len(listed) == 5
        assert len({r["score"] for r in listed if r["candidate_id"] in data.twins}) == 1
        assert not {r["candidate_id"] for r in listed} & set(data.applied)
