"""One partner's sync: fetch → attribute and store → earn / expire credits → advance the watermark.

Facts are committed chunk by chunk while the fetch streams (no transaction is held open across network
waits); the ledger and the watermark are updated in one final transaction. A run that fails half-way
leaves only facts behind, which the next run would store anyway, so re-running is always safe, and a
run with no new data changes nothing in the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from junkan.batching import batched
from junkan.clock import RunClock
from junkan.config import PartnerSettings, Settings
from junkan.db import session_scope
from junkan.db.models_partner import PartnerSyncState
from junkan.links import LinkSigner
from junkan.partner.attribution import CHUNK, AttributionCounts, store_referrals
from junkan.partner.factory import configured_partners, make_source, partner_timezone
from junkan.partner.ledger import ContractRule, PartnerSummary, accrue, expire, summarize
from junkan.partner.records import PartnerSource

log = logging.getLogger(__name__)


def sync_partner(
    engine: Engine,
    partner: PartnerSettings,
    *,
    verify_code: Callable[[str], bool],
    clock: RunClock,
    source: PartnerSource | None = None,
) -> dict[str, int]:
    """Sync one partner; returns counts only (no codes, no personal data).

    Facts and ledger rows are stamped with the real time; credits expire as of the end of the run's day
    in the partner's time zone (an as_of re-run expires what had lapsed by then)."""
    now = clock.now()
    rule = ContractRule.from_settings(partner)
    tz = partner_timezone(partner)
    source = source or make_source(partner)

    with session_scope(engine) as session:
        state = session.get(PartnerSyncState, partner.name)
        watermark = state.watermark if state else None
    since = watermark - timedelta(days=partner.lookback_days) if watermark else None

    counts = AttributionCounts()
    for chunk in batched(source.fetch(since), CHUNK):
        with session_scope(engine) as session:
            part = store_referrals(
                session, partner.name, source.kind, chunk, verify_code=verify_code, now=now
            )
        counts.add(part)

    with session_scope(engine) as session:
        earned = accrue(session, rule, now=now)
        expired = expire(session, rule, reference=clock.in_zone(tz).end_of_day(), now=now)
        stats = {**counts.as_dict(), "credits_earned": earned, "credits_expired": expired}
        newest = counts.max_occurred_at
        if newest is not None:
            # A partner clock running ahead must not make the next fetch skip real reports.
            newest = min(newest, now)
        state = session.get(PartnerSyncState, partner.name)
        if state is None:
            session.add(
                PartnerSyncState(
                    partner=partner.name,
                    watermark=newest,
                    last_synced_at=now,
                    last_kind=source.kind,
                    last_stats=stats,
                )
            )
        else:
            if newest is not None and (state.watermark is None or newest > state.watermark):
                state.watermark = newest
            state.last_synced_at = now
            state.last_kind = source.kind
            state.last_stats = stats
    log.info("partner %s synced: %s", partner.name, stats)
    return stats


def code_verifier(settings: Settings) -> Callable[[str], bool]:
    return LinkSigner.from_settings(settings.links).verify_referral_code


def partner_summaries(engine: Engine, settings: Settings, clock: RunClock) -> list[PartnerSummary]:
    """Balance, progress and period figures for every configured partner, as of the run's day (today in
    the partner's time zone when the run names no day)."""
    result = []
    with session_scope(engine) as session:
        for partner in configured_partners(settings):
            tz = partner_timezone(partner)
            day = clock.in_zone(tz).day
            result.append(summarize(session, ContractRule.from_settings(partner), as_of=day, tz=tz))
    return result
