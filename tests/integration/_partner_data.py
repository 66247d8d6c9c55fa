"""Builders for partner tests: candidates with sent notices carrying signed referral codes, and reports."""

from __future__ import annotations

import csv
import itertools
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import InstrumentedAttribute

from junkan.config import PartnerSettings
from junkan.db import session_scope
from junkan.db.models import Candidate, Message
from junkan.db.models_partner import PartnerLedgerEntry
from junkan.links import LinkSigner

SECRET = "partner-test-secret"
SIGNER = LinkSigner(SECRET)
#: When the notices carrying the codes were accepted by the mail provider.
ACCEPTED = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
_seq = itertools.count(1)


def add_notices(
    engine: Engine,
    n: int,
    *,
    partner: str = "careerrelay",
    accepted_at: datetime | None = ACCEPTED,
    state: str = "accepted",
) -> list[str]:
    """n candidates, each with one rejection notice whose partner section carries a fresh code."""
    codes = [SIGNER.new_referral_code() for _ in range(n)]
    with session_scope(engine) as s:
        candidates = [Candidate(email_key=f"partner{next(_seq)}@example.com") for _ in range(n)]
        s.add_all(candidates)
        s.flush()
        s.add_all(
            Message(
                public_id=secrets.token_hex(8),
                logical_key=f"application:{cand.id}:rejection",
                kind="rejection",
                candidate_id=cand.id,
                state=state,
                due_at=ACCEPTED - timedelta(hours=1),
                advertising=True,
                ref_code=code,
                partner_name=partner,
                accepted_at=accepted_at,
            )
            for cand, code in zip(candidates, codes, strict=True)
        )
    return codes


def forged_code() -> str:
    """Looks like a code (right length and alphabet) but was not signed with our secret."""
    return LinkSigner("someone-elses-secret").new_referral_code()


def tampered(code: str) -> str:
    """One character of a genuine code changed, as a typo or a manual edit would."""
    last = "a" if code[-1] != "a" else "b"
    return code[:-1] + last


def rows(codes: Iterable[str], status: str = "registered", when: datetime | None = None) -> list[list[str]]:
    moment = when or ACCEPTED + timedelta(days=2)
    return [[code, status, moment.isoformat()] for code in codes]


def write_report(
    path: Path,
    data: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    header: Sequence[str] = ("ref_code", "status", "occurred_at"),
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(data)
    return path


def csv_partner(path: Path, name: str = "careerrelay", **overrides: object) -> PartnerSettings:
    return PartnerSettings(name=name, kind="csv", path=path, **overrides)  # type: ignore[arg-type]


def ledger_rows(engine: Engine, *columns: InstrumentedAttribute[Any]) -> list[tuple[Any, ...]]:
    """These columns of every ledger entry, in the order they were written."""
    with session_scope(engine) as s:
        return [tuple(r) for r in s.execute(select(*columns).order_by(PartnerLedgerEntry.id))]
