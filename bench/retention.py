"""Benchmark: one retention run anonymising N candidates (each with an application, a decision-log row and
a sent notice with an event), on SQLite or PostgreSQL.

    python bench/retention.py --n 20000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Without --database-url it uses a temporary SQLite file. With one, it creates a scratch schema there and
drops it afterwards. Prints the seconds of the dry run (the rules' queries) and of the run itself.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, make_url, text

from junkan.batching import batched
from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import make_engine, upgrade
from junkan.db.models import Application, Candidate, DecisionLog, Message
from junkan.db.models_engagement import EmailEvent
from junkan.privacy.run import run_retention

DECIDED = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for batch in batched(range(1, n + 1), 5000):
            conn.execute(
                insert(Candidate),
                [
                    {
                        "id": i,
                        "email_key": f"c{i}@example.jp",
                        "display_name": f"候補者 {i}",
                        "locale": "ja",
                        "tags": ["x"],
                        "created_at": DECIDED,
                        "updated_at": DECIDED,
                    }
                    for i in batch
                ],
            )
            conn.execute(
                insert(Application),
                [
                    {
                        "id": i,
                        "source": "bench",
                        "external_id": f"A{i}",
                        "candidate_id": i,
                        "status": "rejected",
                        "applied_at": DECIDED - timedelta(days=20),
                        "decided_at": DECIDED,
                        "content_hash": "x",
                        "created_at": DECIDED,
                        "updated_at": DECIDED,
                    }
                    for i in batch
                ],
            )
            conn.execute(
                insert(DecisionLog),
                [
                    {
                        "application_id": i,
                        "new_status": "rejected",
                        "decided_at": DECIDED,
                        "recorded_at": DECIDED,
                        "source": "bench",
                        "payload": {"email": f"c{i}@example.jp"},
                    }
                    for i in batch
                ],
            )
            conn.execute(
                insert(Message),
                [
                    {
                        "id": i,
                        "public_id": f"p{i}",
                        "logical_key": f"application:{i}:rejection",
                        "kind": "rejection",
                        "candidate_id": i,
                        "application_id": i,
                        "state": "delivered",
                        "due_at": DECIDED,
                        "subject": f"候補者 {i} 様",
                        "body_text": "…",
                        "created_at": DECIDED,
                        "updated_at": DECIDED,
                    }
                    for i in batch
                ],
            )
            conn.execute(
                insert(EmailEvent),
                [
                    {
                        "sg_event_id": f"e{i}",
                        "dedup_key": f"d{i}",
                        "message_id": i,
                        "event": "delivered",
                        "occurred_at": DECIDED,
                        "received_at": DECIDED,
                        "payload": {"x": 1},
                    }
                    for i in batch
                ],
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    schema = None
    if args.database_url:
        schema = f"bench_retention_{secrets.token_hex(4)}"
        admin = create_engine(args.database_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = (
            make_url(args.database_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        seed(url, args.n)
        settings = Settings(database_url=url)
        engine = make_engine(url)
        started = time.perf_counter()
        dry = run_retention(engine, settings, RunClock.fixed(NOW, as_of=date(2026, 12, 1)), dry_run=True)
        dry_s = time.perf_counter() - started
        started = time.perf_counter()
        result = run_retention(engine, settings, RunClock.fixed(NOW, as_of=date(2026, 12, 1)))
        run_s = time.perf_counter() - started
        engine.dispose()
        assert dry.by_rule["rejected_days"] == args.n == result.by_rule["rejected_days"]
        dialect = "postgresql" if schema else "sqlite"
        print(
            f"{dialect}: {args.n} candidates due; dry run {dry_s:.2f} s; anonymised in {run_s:.2f} s "
            f"({args.n / run_s:,.0f} candidates/s); rows {result.tables}"
        )
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
