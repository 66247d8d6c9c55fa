"""Benchmark: rejection notices through the outbox and the `sendgrid` backend to a local fake.

    .venv/bin/python bench/notify.py --n 10000 --latency-ms 20

Seeds N rejected applications in a fresh SQLite database, enqueues them, then measures:
- the render rate alone (template + signed links, no I/O),
- the end-to-end send rate (claim, render, mark `sending`, SendGrid request, record) with the configured
  worker pool,
- the same N sent strictly one after another (one worker) as the baseline, and the ratio,
- the peak RSS of this process,
- CPU seconds next to every wall-clock figure (this process; for sends also the fake's process), since
  other work on the machine stretches wall-clock times but not the CPU a phase needs.

The SendGrid fake runs in its own process (as the real API would), answering after `--latency-ms`.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from junkan.config import Settings  # noqa: E402
from junkan.db import make_engine, session_scope, upgrade  # noqa: E402
from junkan.db.models import Application, Candidate, Consent, Job, Message, RejectionReason  # noqa: E402
from junkan.mail.backends import build_backend  # noqa: E402
from junkan.outbox.enqueue import enqueue_due_notices  # noqa: E402
from junkan.outbox.render import NoticeRenderer, notice_rows_query, rows_from  # noqa: E402
from junkan.outbox.sender import OutboxSender  # noqa: E402
from tests.mail_support import live_identity  # noqa: E402

JST = ZoneInfo("Asia/Tokyo")
DECIDED = datetime(2026, 11, 16, 15, 0, tzinfo=JST)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=JST)
API_KEY = "SG.bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_fake(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.sendgrid", "--port", str(port), "--latency-ms", str(latency_ms),
         "--api-key", API_KEY],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait for the listener (a benchmark, not a test)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the SendGrid fake did not start")


class Meter:
    """Wall-clock and CPU seconds of one phase: this process (all threads) and, if given, the fake's."""

    def __init__(self, other_pid: int | None = None) -> None:
        self._other = psutil.Process(other_pid) if other_pid else None

    def _cpu(self) -> tuple[float, float]:
        own = time.process_time()
        if self._other is None:
            return own, 0.0
        t = self._other.cpu_times()
        return own, t.user + t.system

    def __enter__(self) -> Meter:
        self._t0, (self._c0, self._o0) = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        own, other = self._cpu()
        self.wall = time.perf_counter() - self._t0
        self.cpu = own - self._c0
        self.other_cpu = other - self._o0

    def line(self, n: int) -> str:
        text = f"cpu {self.cpu:.2f} s ({self.cpu / n * 1e6:,.0f} µs each"
        if self._other is not None:
            text += f"; fake {self.other_cpu:.2f} s"
        return text + ")"


def seed(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.execute(insert(Job), [{"id": j + 1, "source": "bench", "external_id": f"J{j}",
                                 "title": f"職種{j}（正社員）", "status": "open", "updated_at": now}
                                for j in range(50)])
        s.execute(insert(RejectionReason), [{"id": 1, "source": "bench", "external_id": "R1",
                                             "name": "skills", "kind": "rejected", "category": "other",
                                             "pool_eligibility": "standard", "mapping_version": "1"}])
        s.execute(insert(Candidate), [{"id": i + 1, "email_key": f"cand{i}@example.com",
                                       "display_name": f"候補者 {i}", "locale": "ja" if i % 5 else "en",
                                       "tags": [], "created_at": now, "updated_at": now} for i in range(n)])
        s.execute(insert(Application), [{"source": "bench", "external_id": f"A{i}", "candidate_id": i + 1,
                                         "job_id": i % 50 + 1, "status": "rejected",
                                         "decided_at": DECIDED - timedelta(minutes=i % 600), "reason_id": 1,
                                         "content_hash": "x", "is_reapplication": False,
                                         "created_at": now, "updated_at": now} for i in range(n)])
        s.execute(insert(Consent), [{"candidate_id": i + 1, "purpose": "partner_info", "granted": True,
                                     "recorded_at": DECIDED - timedelta(days=1), "source": "bench"}
                                    for i in range(0, n, 3)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--baseline-n", type=int, default=None,
                        help="Send only this many in the sequential baseline and scale (default: all N).")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="junkan-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    fake, fake_url = start_fake(args.latency_ms)
    try:
        # A live send needs a real-looking sender identity (junkan.mail.identity_guard).
        settings = Settings(
            database_url=url,
            **live_identity({"backend": "sendgrid", "sendgrid_api_key": API_KEY, "sendgrid_host": fake_url,
                             "workers": args.workers}),
            _env_file=None,  # type: ignore[call-arg]
        )
        with Meter() as m_seed:
            seed(engine, args.n)

        with Meter() as m_enqueue, session_scope(engine) as s:
            enq = enqueue_due_notices(s, settings, NOW)
        assert enq.enqueued == args.n, enq.counts()

        # Render alone: the same work the sender does per message, without the database or the network.
        renderer = NoticeRenderer(settings)
        with Session(engine) as s:
            rows = rows_from(s, s.execute(notice_rows_query(NOW)), settings.retention.key_bytes())
        renderer.prepare(rows[0])  # compile the templates once, as a run does on its first message
        with Meter() as m_render:
            for row in rows:
                renderer.prepare(row)
        del rows

        backend = build_backend(settings)
        with Meter(fake.pid) as m_send:
            counts = OutboxSender(engine, settings, backend=backend, renderer=renderer, now=NOW).run()
        assert counts.sent == args.n, counts.counts()

        # Baseline: the same notices again, strictly one after another (one worker), end to end.
        base_n = args.baseline_n or args.n
        with session_scope(engine) as s:
            s.execute(update(Message).values(state="pending", provider_message_id=None, accepted_at=None))
        seq_settings = settings.model_copy(update={"mail": settings.mail.model_copy(update={"workers": 1})})
        with Meter(fake.pid) as m_seq:
            seq = OutboxSender(engine, seq_settings, backend=backend, renderer=renderer, now=NOW,
                               chunk_size=8).run(limit=base_n)
        assert seq.sent == base_n, seq.counts()
        backend.close()
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    n = args.n
    rate = n / m_send.wall
    seq_rate = base_n / m_seq.wall
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"notices:              {n} (sendgrid fake, {args.latency_ms:g} ms latency, "
          f"{args.workers} workers; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"seed:                 {m_seed.wall:.2f} s")
    print(f"enqueue:              {m_enqueue.wall:.2f} s  ({n / m_enqueue.wall:,.0f} notices/s)   "
          f"{m_enqueue.line(n)}")
    print(f"render alone:         {m_render.wall:.2f} s  ({n / m_render.wall:,.0f} renders/s)   "
          "goal >= 5,000")
    print(f"                      {m_render.line(n)} -> {n / m_render.cpu:,.0f} renders per CPU second")
    print(f"send end to end:      {m_send.wall:.2f} s  ({rate:,.0f} mails/s)   goal >= 250")
    print(f"                      {m_send.line(n)}")
    print(f"sequential baseline:  {m_seq.wall:.2f} s for {base_n}  ({seq_rate:,.1f} mails/s)   "
          f"{m_seq.line(base_n)}")
    print(f"speed-up:             {rate / seq_rate:.1f}x")
    print(f"peak RSS:             {peak_mb:.0f} MB   goal < 300")


if __name__ == "__main__":
    main()
