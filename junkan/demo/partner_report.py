"""A realistic partner CSV report for the demo, built from the notices that carried referral codes.

Some recipients register with the partner a few hours to days after the notice was accepted; fewer go on
to an interview, fewer still are placed. One line carries a code nobody issued, as real reports
sometimes do, so the demo shows a quarantined referral too. Only opaque codes and times are written.

The figures must agree: most people who register first followed the notice's partner link (their click is
recorded, as the web app would have), the rest typed the referral code on the partner's site. The report
shows both paths; no registration comes from nowhere.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from junkan.db import session_scope
from junkan.db.dialect import insert_ignore
from junkan.db.models import Message
from junkan.db.models_engagement import Click

HEADER = ("ref_code", "status", "occurred_at")
#: Share of the people who register who first clicked the partner link (the others typed the code).
CLICKED_FIRST = 0.75


def write_partner_report(
    engine: Engine,
    path: Path,
    *,
    seed: int,
    share: float = 0.3,
    partner: str | None = None,
    min_registered: int = 10,
    now: datetime | None = None,
) -> int:
    """Write the report to `path` (UTF-8 with BOM, as spreadsheet exports are); return its line count.

    `share` of the accepted notices with a code register (at least `min_registered` when that many
    exist, so the demo earns a credit); of those about 40 % are interviewed and 10 % placed.
    """
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    query = select(Message.id, Message.ref_code, Message.accepted_at).where(
        Message.ref_code.is_not(None), Message.accepted_at.is_not(None)
    )
    if partner is not None:
        query = query.where(Message.partner_name == partner)
    with session_scope(engine) as session:
        # The query keeps only rows with both set; the comprehension says so to the type checker.
        sent = [(mid, code, accepted) for mid, code, accepted in session.execute(query.order_by(Message.id))
                if code is not None and accepted is not None]

    count = min(len(sent), max(round(len(sent) * share), min_registered))
    registered = rng.sample(sent, count)
    lines: list[tuple[str, str, datetime]] = []
    clicks: list[dict[str, object]] = []
    for mid, code, accepted in registered:
        # Registrations cluster in the first days after the mail: never before it, not in the future.
        joined = _not_after(accepted + timedelta(minutes=rng.randint(20, 4 * 24 * 60)), now, accepted)
        lines.append((code, "registered", joined))
        if rng.random() < CLICKED_FIRST:
            clicked = accepted + (joined - accepted) * rng.uniform(0.05, 0.9)
            clicks.append({"message_id": mid, "link": "partner", "kind": "person", "clicked_at": clicked,
                           "last_at": clicked, "fetches": 1})
        if rng.random() < 0.4:
            interviewed = _not_after(joined + timedelta(days=rng.randint(2, 14)), now, joined)
            lines.append((code, "interviewed", interviewed))
            if rng.random() < 0.25:
                placed = _not_after(interviewed + timedelta(days=rng.randint(7, 30)), now, interviewed)
                lines.append((code, "placed", placed))
    # A code nobody issued (right shape, wrong signature): the sync quarantines it.
    bogus = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(24))
    lines.append((bogus, "registered", now - timedelta(hours=rng.randint(1, 48))))
    lines.sort(key=lambda line: line[2])

    if clicks:
        # A second report of the same demo finds the clicks already recorded (one row per message).
        with session_scope(engine) as session:
            session.execute(insert_ignore(session, Click), clicks)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for code, status, when in lines:
            writer.writerow((code, status, when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return len(lines)


def _not_after(moment: datetime, now: datetime, floor: datetime) -> datetime:
    """`moment` capped at now, but never before `floor` (a demo clock may run ahead of the wall clock)."""
    return max(floor, min(moment, now))
