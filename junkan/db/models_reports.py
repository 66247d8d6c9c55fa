"""Report snapshots: the KPI figures of one period together with every input that produced them.

Trends read these rows instead of recomputing history, so a figure once reported stays what it was
(until an explicit `--recompute`), and an analyst can see which inputs gave which number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow


class ReportSnapshot(Base):
    __tablename__ = "report_snapshot"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "scope", name="uq_report_snapshot_period_scope"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Local dates (business time zone), both inclusive.
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    #: "overall" today; room for per-department snapshots.
    scope: Mapped[str] = mapped_column(String(64), default="overall")
    #: {"kpis": {...}, "tables": {...}}: the computed figures, JSON-safe.
    figures: Mapped[dict[str, Any]] = mapped_column(JsonType)
    #: Settings and cost inputs used, and the KPI definitions' hashes.
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonType)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
