"""Benchmark: the SendGrid event webhook under load, served by uvicorn on loopback.

    .venv/bin/python bench/webhook.py                      # SQLite (a fresh file in a temp dir)
    .venv/bin/python bench/webhook.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/junkan_bench

Seeds `--messages` sent messages, starts `junkan web` (uvicorn, one worker, access log off) on 127.0.0.1,
then posts `--events` events in signed batches of `--batch` (ECDSA P-256, as SendGrid signs) and prints
events/s and the p50/p99/max latency per batch. A realistic mix: processed, delivered, open, click,
bounces (hard and soft), unsubscribes and spam reports, spread over the seeded messages. Afterwards it
replays 10 batches (SendGrid's duplicate deliveries) and checks that exactly `--events` events are stored.

The PostgreSQL database given must be a scratch database: the bench migrates it and empties its tables.
Goal (issue 4): at least 5,000 events/s on both dialects.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from junkan.db import make_engine, upgrade  # noqa: E402
from junkan.db.models import Candidate, Message  # noqa: E402
from junkan.db.models_engagement import EmailEvent  # noqa: E402
from tests.db_support import wipe  # noqa: E402
from tests.integration._engagement_data import WebhookKeys  # noqa: E402

SENT = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
MIX = [("processed", 20), ("delivered", 38), ("open", 25), ("click", 10), ("deferred", 3),
       ("bounce", 2), ("unsubscribe", 1), ("spamreport", 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset(url: str) -> None:
    upgrade(url)
    wipe(make_engine(url))


def seed(url: str, n: int) -> list[tuple[str, str, str]]:
    """N candidates with one accepted message each; returns (public id, X-Message-Id, address)."""
    engine = make_engine(url)
    people = [{"email_key": f"bench{i}@example.jp", "locale": "ja", "tags": []} for i in range(n)]
    with engine.begin() as conn:
        conn.execute(insert(Candidate), people)
        ids = dict(conn.execute(select(Candidate.email_key, Candidate.id)).all())
        rows = [{
            "public_id": secrets.token_hex(12), "logical_key": f"application:{i}:rejection",
            "kind": "rejection",
            "candidate_id": ids[f"bench{i}@example.jp"], "state": "accepted", "due_at": SENT,
            "advertising": i % 3 == 0, "locale": "ja", "template_name": "rejection_notice",
            "provider_message_id": f"bench-xid-{i // 100}", "accepted_at": SENT, "attempts": 1,
        } for i in range(n)]
        conn.execute(insert(Message), rows)
    with engine.begin() as conn:
        # Fresh statistics, as a live database has: without them PostgreSQL plans for an empty table.
        conn.execute(text("ANALYZE"))
    return [(r["public_id"], r["provider_message_id"], f"bench{i}@example.jp") for i, r in enumerate(rows)]


def make_batches(messages: list[tuple[str, str, str]], total: int, size: int, rng: random.Random
                 ) -> list[bytes]:
    kinds = [k for k, weight in MIX for _ in range(weight)]
    base = int(SENT.timestamp())
    batches = []
    for b in range(0, total, size):
        events = []
        for i in range(b, min(b + size, total)):
            public_id, xid, email = rng.choice(messages)
            kind = rng.choice(kinds)
            e = {"event": kind, "email": email, "timestamp": base + i,
                 "sg_event_id": secrets.token_urlsafe(16), "sg_message_id": f"{xid}.filterdrecv-5bd8-1-{i}",
                 "junkan_message_id": public_id, "category": ["rejection"]}
            if kind in ("open", "click"):
                e.update(ip="203.0.113.7", useragent="Mozilla/5.0 (bench)", sg_machine_open=False)
            if kind == "click":
                e["url"] = "https://mail.example.co.jp/r/token"
            if kind == "bounce":
                e.update(type=rng.choice(["bounce", "blocked"]), status="5.1.1", reason="550 user unknown")
            events.append(e)
        batches.append(json.dumps(events).encode())
    return batches


def start_server(url: str, public_key: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JUNKAN_DATABASE_URL": url, "JUNKAN_WEBHOOK__SENDGRID_PUBLIC_KEY": public_key}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "junkan.web.app:app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # a startup poll in a benchmark script, not a test
    raise SystemExit("server did not become ready")


def post_all(base: str, keys: WebhookKeys, batches: list[bytes], concurrency: int
             ) -> tuple[list[float], float]:
    def send(client: httpx.Client, body: bytes) -> float:
        start = time.perf_counter()
        resp = client.post(f"{base}/hooks/sendgrid", content=body, headers=keys.sign(body, int(time.time())))
        elapsed = time.perf_counter() - start
        if resp.status_code != 200:
            raise SystemExit(f"webhook answered {resp.status_code}: {resp.text[:200]}")
        return elapsed

    clients = [httpx.Client(timeout=60) for _ in range(concurrency)]
    start = time.perf_counter()
    try:
        if concurrency == 1:
            latencies = [send(clients[0], body) for body in batches]
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                latencies = list(pool.map(lambda ib: send(clients[ib[0] % concurrency], ib[1]),
                                          enumerate(batches)))
    finally:
        for c in clients:
            c.close()
    return latencies, time.perf_counter() - start


def _cpu_seconds(server: psutil.Process) -> float:
    """User + system CPU of the server and its workers (children's figures are live, not reaped)."""
    return sum(p.cpu_times().user + p.cpu_times().system for p in [server, *server.children(recursive=True)])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="scratch database (default: a fresh SQLite file)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=1, help="parallel POSTs (SendGrid uses several)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="junkan-bench-webhook-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    reset(url)
    messages = seed(url, args.messages)
    rng = random.Random(args.seed)
    batches = make_batches(messages, args.events, args.batch, rng)
    keys = WebhookKeys()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(url, keys.public_key, port, args.workers)
    try:
        wait_ready(base, proc)
        server = psutil.Process(proc.pid)
        # Start-up (imports, migrations check, first connections) is not per-event work: measure from here.
        startup_cpu_s = _cpu_seconds(server)
        latencies, wall = post_all(base, keys, batches, args.concurrency)
        replay_latencies, _ = post_all(base, keys, batches[:10], 1)
        rss = sum(p.memory_info().rss for p in [server, *server.children(recursive=True)]) / 2**20
        server_cpu_s = _cpu_seconds(server) - startup_cpu_s
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    with make_engine(url).connect() as conn:
        stored = conn.execute(select(func.count()).select_from(EmailEvent)).scalar_one()
        states = dict(conn.execute(select(Message.state, func.count()).group_by(Message.state)).all())
    ms = [x * 1000 for x in latencies]
    print(f"webhook benchmark — {dialect}, {args.events:,} events in batches of {args.batch:,}, "
          f"{args.messages:,} messages, concurrency {args.concurrency}, {args.workers} worker(s)")
    print(f"  throughput        {args.events / wall:,.0f} events/s ({wall:.1f} s wall)")
    print(f"  batch latency     p50 {statistics.median(ms):.0f} ms, p99 {pct(ms, 99):.0f} ms, "
          f"max {max(ms):.0f} ms")
    print(f"  replayed batches  p50 {statistics.median(replay_latencies) * 1000:.0f} ms "
          f"(10 duplicate deliveries, nothing new stored)")
    verdict = "OK" if stored == args.events else "MISMATCH"
    print(f"  stored events     {stored:,} (expected {args.events:,}: {verdict})")
    print(f"  message states    {dict(sorted(states.items()))}")
    print(f"  server RSS        {rss:.0f} MiB")
    # On a shared machine wall-clock throughput depends on the neighbours; CPU per event does not.
    handled = args.events + 10 * args.batch
    print(f"  server CPU        {server_cpu_s:.1f} s after start-up, "
          f"{server_cpu_s / handled * 1e6:.0f} µs per "
          f"event (one free core: ~{handled / server_cpu_s:,.0f} events/s; start-up {startup_cpu_s:.1f} s)")
    tmp.cleanup()
    if stored != args.events:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
