"""Benchmark: `junkan web` under wrk-style traffic, slow clients and clients that leave mid-body.

    .venv/bin/python bench/web_traffic.py                  # SQLite (a fresh file in a temp dir)
    .venv/bin/python bench/web_traffic.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/junkan_bench

Starts `junkan web` (the CLI, so with its server options) on 127.0.0.1 over a database holding one sent
mail, then prints:
1. `--fetches` GETs of that mail's partner link over `--concurrency` keep-alive connections (what `wrk`
   does): requests/s, and the click rows stored (one person row, however many fetches);
2. `--slow` connections that send half their request headers and stop: how many the server closed, and
   how long that took (goal: all, within the 10 s header deadline);
3. `--slow` connections that send headers and a few bytes of a declared body, then nothing: the same
   (goal: all, within the 30 s body deadline);
4. `--gone` POSTs to the unsubscribe link whose client leaves mid-body: the server's log lines (goal: 0).

The PostgreSQL database given must be a scratch database: the bench migrates it and empties its tables.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.webhook import free_port, reset, wait_ready  # noqa: E402
from junkan.db import make_engine, session_scope  # noqa: E402
from junkan.db.models_engagement import Click  # noqa: E402
from junkan.links import LinkSigner  # noqa: E402
from tests.integration._engagement_data import sent_message  # noqa: E402

SECRET = "bench-" + "x" * 40


def start_web(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JUNKAN_DATABASE_URL": url, "JUNKAN_LINKS__SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-c", "from junkan.cli import main; main()", "web", "--port", str(port),
         "--log-level", "info"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # read at the end
    )


def hammer(url: str, n: int, concurrency: int) -> float:
    def run(count: int) -> None:
        with httpx.Client(timeout=30, follow_redirects=False) as client:
            for _ in range(count):
                if client.get(url).status_code != 302:
                    raise SystemExit("the tracked link did not redirect")

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(run, [n // concurrency] * concurrency))
    return (n // concurrency * concurrency) / (time.perf_counter() - start)


def held_open(port: int, count: int, payload: bytes, limit_s: float) -> tuple[int, list[float]]:
    """Open `count` connections sending `payload` and nothing more; wait up to `limit_s` for the server to
    close them. Returns how many it closed and after how long each."""
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(payload)
        conn.setblocking(False)
        opened[conn] = time.monotonic()
        selector.register(conn, selectors.EVENT_READ)
    closed: list[float] = []
    deadline = time.monotonic() + limit_s
    while opened and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            try:
                data = conn.recv(4096)
            except ConnectionResetError:
                data = b""
            if not data:
                closed.append(time.monotonic() - opened.pop(conn))
                selector.unregister(conn)
                conn.close()
    for conn in opened:
        conn.close()
    return len(closed), closed


def summary(name: str, count: int, result: tuple[int, list[float]]) -> None:
    done, times = result
    spread = f"p50 {statistics.median(times):.1f} s, max {max(times):.1f} s" if times else "-"
    print(f"{name}: {done}/{count} closed by the server ({spread})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--fetches", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--gone", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        reset(url)
        engine = make_engine(url)
        msg = sent_message(engine, ref_code="bench-ref")
        signer = LinkSigner(SECRET)
        port = free_port()
        proc = start_web(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc)
            rate = hammer(f"{base}/r/{signer.tracking_token(msg.public_id, 'partner')}", args.fetches,
                          args.concurrency)
            with session_scope(engine) as s:
                rows = s.execute(select(Click.kind, Click.fetches)).all()
            print(f"tracked link: {rate:.0f} requests/s; click rows stored: {[tuple(r) for r in rows]}")
            summary("partial headers", args.slow,
                    held_open(port, args.slow, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 60))
            unsubscribe = f"POST /u/{signer.unsubscribe_token(msg.public_id)} HTTP/1.1\r\nHost: x\r\n" \
                          "Content-Length: 100\r\n\r\nList-Unsub"
            summary("slow bodies", args.slow, held_open(port, args.slow, unsubscribe.encode(), 60))
            for _ in range(args.gone):
                with socket.create_connection(("127.0.0.1", port)) as conn:
                    conn.sendall(unsubscribe.encode())
            assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=60)
        lines = [line for line in err.decode(errors="replace").splitlines()
                 if not line.startswith("INFO:") and "JUNKAN_LINKS__SECRET" not in line]
        print(f"clients gone mid-body: {args.gone} requests, {len(lines)} log lines other than start/stop")
        for line in lines[:5]:
            print("  ", line)


if __name__ == "__main__":
    main()
