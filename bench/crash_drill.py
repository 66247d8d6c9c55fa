"""Crash drill: randomised SIGKILLs of the sender, then recovery without an operator (docs/outbox.md).

    nice bench/crash_drill.py --kills 100
    nice bench/crash_drill.py --kills 100 --database-url postgresql+psycopg://postgres@127.0.0.1/junkan_drill

Each kill: seed 8-30 due notices, start a send run in a child process (`--workers` workers, random chunk
size) against the SendGrid fake (20 ms per request), SIGKILL it after a random number of requests, count
the messages it left `sending` (uncertain: they may or may not have reached the provider), then run the
next send run after the leases ran out (it turns them `unknown` and sends the rest). The fake's event
webhook posts a `processed` event for every send it accepted to Junkan's own webhook app (signed, over
HTTP), as SendGrid does.

After the last kill, one more day of notices is sent (later traffic: what shows the webhook is live), the
events are applied and `unknown` messages settled (`sync-email-events`' steps) once the window
(JUNKAN_MAIL__UNKNOWN_SETTLE_S) has passed, and one last send run sends what went back to pending. Then it
prints, against the fake's log of requests:

- duplicates: messages the provider accepted more than once (goal 0);
- lost: due messages the provider never accepted, or `accepted` in the database without it (goal 0);
- uncertain per kill: messages left `sending` by the killed run, at most and on average (goal at most one
  per worker);
- waiting for an operator: messages still `unknown` after the window (goal 0).

Exits 1 when a goal is missed. The seed (--seed) replays a drill.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from sqlalchemy import make_url, select  # noqa: E402

from junkan.config import Settings  # noqa: E402
from junkan.db import make_engine, session_scope, upgrade  # noqa: E402
from junkan.db.models import Message  # noqa: E402
from junkan.db.types import utcnow  # noqa: E402
from junkan.engagement.reconcile import reconcile_messages  # noqa: E402
from junkan.outbox.settle import settle_unknown  # noqa: E402
from junkan.web.app import create_app  # noqa: E402
from tests.fakes.sendgrid import EventWebhook, SendGridFake  # noqa: E402
from tests.integration import _outbox_child as child  # noqa: E402
from tests.integration._engagement_data import WebhookKeys  # noqa: E402
from tests.mail_support import live_identity  # noqa: E402

API_KEY = "SG.crash-drill"
WINDOW = timedelta(seconds=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(database_url: str, fake: SendGridFake, tmp: Path, workers: int, public_key: str) -> Settings:
    return Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": API_KEY, "sendgrid_host": fake.url,
                         "workers": workers, "outbox_dir": tmp / "outbox",
                         "unknown_settle_s": WINDOW.total_seconds()}),
        webhook={"sendgrid_public_key": public_key},
        _env_file=None,  # type: ignore[call-arg]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = ap.parse_args()
    logging.getLogger("junkan").setLevel(logging.ERROR)  # each recovery names its crash leftovers
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="junkan-drill-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'drill.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    keys = WebhookKeys()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration._outbox_child"])
    started = time.monotonic()
    uncertain: list[int] = []
    ids: set[str] = set()
    with SendGridFake(API_KEY, latency_s=args.latency_ms / 1000, keep_bodies=False) as fake:
        settings = _settings(database_url, fake, tmp, args.workers, keys.public_key)
        port = _free_port()
        web = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                            log_level="error"))
        threading.Thread(target=web.run, daemon=True).start()
        with EventWebhook(fake, f"http://127.0.0.1:{port}/hooks/sendgrid", keys.sign) as webhook:
            for kill in range(args.kills):
                trial = child.seed_due_notices(engine, settings, rng.randint(8, 30))
                ids |= trial
                target = rng.randint(1, len(trial) - 1)
                reached = child.reached_after(fake, trial, target)
                name = f"junkan-drill-{os.getpid()}-{kill}"
                url = child.child_url(database_url, name)
                proc = ctx.Process(target=child.child_send,
                                   args=(url, fake.url, API_KEY, str(tmp), args.workers, rng.randint(2, 16)))
                proc.start()
                if not reached.wait(120):
                    raise SystemExit(f"kill {kill}: the child never got going")
                os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
                proc.join(30)
                fake.responder = None
                child.wait_for_child_backends_to_end(engine, name)
                with session_scope(engine) as s:
                    uncertain.append(len(s.scalars(select(Message.id).where(
                        Message.public_id.in_(trial), Message.state == "sending")).all()))
                # The next run, once the killed run's leases ended.
                child.send_run(engine, settings, hours_later=2)
            # The next day's notices: the webhook reports them.
            ids |= child.seed_due_notices(engine, settings, 20)
            child.send_run(engine, settings, hours_later=2)
            deadline = time.monotonic() + 120
            while webhook.pending() and time.monotonic() < deadline:
                time.sleep(0.1)  # the webhook posts every 0.2 s; polled under a deadline
            with session_scope(engine) as s:
                unknown_before = len(s.scalars(select(Message.id).where(Message.state == "unknown")).all())
                reconcile_messages(s, now=utcnow(), key=settings.retention.key_bytes())
                settled = settle_unknown(s, now=utcnow() + timedelta(hours=2) + WINDOW, window=WINDOW)
            child.send_run(engine, settings, hours_later=4)  # what went back to pending
        web.should_exit = True
        log = fake.snapshot()
    accepted = Counter(r.junkan_message_id for r in log if r.status == 202)
    with session_scope(engine) as s:
        states = {pid: state for pid, state in s.execute(select(Message.public_id, Message.state)
                                                          .where(Message.public_id.in_(ids)))}
    duplicates = sum(1 for pid in ids if accepted[pid] > 1)
    lost = sum(1 for pid in ids if accepted[pid] == 0
               or states[pid] not in ("accepted", "delivered", "unknown"))
    waiting = sum(1 for pid in ids if states[pid] == "unknown")
    took = time.monotonic() - started
    print(f"database:               {make_url(database_url).get_backend_name()}, {args.workers} workers, "
          f"seed {args.seed}, {args.latency_ms:g} ms per request")
    print(f"kills:                  {len(uncertain)} ({took:.0f} s)")
    print(f"notices:                {len(ids)} (requests received by the fake: {len(log)})")
    print(f"duplicates:             {duplicates}   goal 0")
    print(f"lost:                   {lost}   goal 0")
    print(f"uncertain per kill:     max {max(uncertain)}, mean {statistics.mean(uncertain):.2f}, total "
          f"{sum(uncertain)}   goal <= {args.workers} (one per worker)")
    print(f"uncertain, settled:     {sum(uncertain) - unknown_before} as sent from their events on arrival, "
          f"{unknown_before - len(settled.resent)} by reconciliation, {len(settled.resent)} back to pending "
          f"(never reached the provider) and sent by the next run")
    print(f"waiting for an operator: {waiting}   goal 0")
    print(f"final states:           {dict(Counter(states.values()))}")
    ok = duplicates == 0 and lost == 0 and max(uncertain) <= args.workers and waiting == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
