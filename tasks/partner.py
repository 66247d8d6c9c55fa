"""Prefect tasks for the relay-partner sync: one task per partner (a batch), never one per referral."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from junkan.db.errors import database_errors_scrubbed
from junkan.partner.factory import find_partner, syncable_partners
from junkan.partner.sync import code_verifier, partner_summaries, sync_partner
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient


@task(name="partner-names", cache_policy=NO_CACHE, result_serializer=RESULT_SERIALIZER)
@database_errors_scrubbed
def partner_names() -> list[str]:
    """Partners to sync; those without a report path or API URL have nothing to sync yet."""
    return [p.name for p in syncable_partners(runtime().settings)]


@task(
    name="sync-partner",
    task_run_name="sync-partner-{partner_name}",
    retries=2,
    retry_delay_seconds=[60, 300],
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    result_serializer=RESULT_SERIALIZER,
)
@database_errors_scrubbed
def sync_one_partner(partner_name: str, as_of: date | None = None) -> dict[str, int]:
    """Fetch, attribute and store one partner's referrals, then earn / expire its credits.

    Safe to retry as a whole: stored facts are unique and ledger rows are keyed.
    """
    rt = runtime(as_of)
    partner = find_partner(rt.settings, partner_name)
    return sync_partner(rt.engine, partner, verify_code=code_verifier(rt.settings), clock=rt.clock)


@task(name="summarize-partners", cache_policy=NO_CACHE, result_serializer=RESULT_SERIALIZER)
@database_errors_scrubbed
def summarize_partners(as_of: date | None = None) -> list[dict[str, Any]]:
    """Per partner: registrations this period and all-time, credits, balance, progress, value in yen."""
    rt = runtime(as_of)
    return [s.as_dict() for s in partner_summaries(rt.engine, rt.settings, rt.clock)]
