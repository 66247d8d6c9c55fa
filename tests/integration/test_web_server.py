"""`junkan web`'s server under hostile traffic, over real sockets: disconnects mid-body, slow headers, slow
bodies. The server is uvicorn with Junkan's options (`junkan.web.server`), in a thread of this process.

Synchronisation is on socket reads with timeouts (a closed connection reads b""), and on the server's own
shutdown, which waits for every request task to finish before `run` returns.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine, func, select

from junkan.config import LinkSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Consent
from junkan.links import LinkSigner
from junkan.web import create_app
from junkan.web.server import TimedH11Protocol, server_options
from tests.integration._engagement_data import add_message, grant

#: Short deadlines so the test takes seconds; the shipped ones are in junkan.web.server.
HEADER_S, BODY_S = 0.5, 1.0
#: How long a read may wait for the server to act: generous, the test only waits this long on failure.
MARGIN_S = 10.0


class _QuickProtocol(TimedH11Protocol):
    header_timeout_s = HEADER_S
    body_timeout_s = BODY_S


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"links": LinkSettings(secret="s" * 32)})


@contextmanager
def running(settings: Settings) -> Iterator[tuple[str, int]]:
    """The app served by uvicorn with Junkan's server options; on exit, a graceful shutdown (which waits for
    the requests in progress)."""
    sock = socket.create_server(("127.0.0.1", 0))  # listening before the thread starts: connects never race
    options: dict[str, Any] = {**server_options(), "http": _QuickProtocol, "access_log": False}
    config = uvicorn.Config(create_app(settings), log_config=None, lifespan="off", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join(MARGIN_S)
        sock.close()
    assert not thread.is_alive()


def get(address: tuple[str, int], path: str) -> bytes:
    """One complete request on a connection of its own, and the whole answer."""
    with socket.create_connection(address, timeout=MARGIN_S) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return closed_within(conn, MARGIN_S)[0]


def closed_within(conn: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sent until it closed the connection, and how long that took."""
    conn.settimeout(seconds)
    start, got = time.monotonic(), bytearray()
    while chunk := conn.recv(4096):
        got += chunk
    return bytes(got), time.monotonic() - start


def test_clients_that_leave_mid_body_are_handled_quietly_and_record_nothing(
    engine: Engine, web_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope(engine) as s:
        sent = add_message(s, advertising=True)
        grant(s, sent.candidate_id, "partner_info")
        renewal = add_message(s, kind="consent_renewal", template="consent_renewal")
    signer = LinkSigner.from_settings(web_settings.links)
    paths = [f"/u/{signer.unsubscribe_token(sent.public_id)}",
             f"/c/{signer.renewal_token(renewal.public_id)}"]
    caplog.set_level(logging.DEBUG)
    requests = 10
    with running(web_settings) as address:
        for _ in range(requests):
            for path in paths:
                with socket.create_connection(address, timeout=MARGIN_S) as conn:
                    conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                                 "Content-Type: application/x-www-form-urlencoded\r\n\r\nList-Unsub".encode())
        # Connections are accepted in order: once this one is answered, every one above was taken in.
        assert get(address, "/healthz").startswith(b"HTTP/1.1 200")
    # The server has shut down: every request's task has finished and logged what it would.
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert len([r for r in caplog.records if r.name.startswith("junkan")]) <= requests * len(paths)
    with session_scope(engine) as s:
        consents = s.execute(select(Consent.purpose, Consent.granted, Consent.source)).all()
    # A request whose body never arrived is neither an unsubscribe nor a renewal.
    assert [tuple(c) for c in consents] == [("partner_info", True, "csv")]


def test_a_client_sending_partial_headers_is_closed_within_the_header_timeout(web_settings: Settings) -> None:
    with running(web_settings) as address, socket.create_connection(address) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sent, waited = closed_within(conn, MARGIN_S)
    assert sent == b""
    assert HEADER_S <= waited < MARGIN_S


def test_a_keep_alive_connection_gets_the_header_timeout_for_its_next_request_too(
    web_settings: Settings,
) -> None:
    with running(web_settings) as address, socket.create_connection(address) as conn:
        conn.sendall(b"GET /r/x HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.settimeout(MARGIN_S)
        assert conn.recv(65536).startswith(b"HTTP/1.1 404")  # (its body may still be on its way)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # the next request stalls inside its headers
        rest, waited = closed_within(conn, MARGIN_S)
    # The deadline runs from the end of the first answer: the stalled headers get no more than that.
    assert b"HTTP/1.1" not in rest and waited < MARGIN_S  # closed, and the stalled request got no answer


def test_a_slow_body_is_cut_at_the_body_timeout_and_records_nothing(
    engine: Engine, web_settings: Settings
) -> None:
    with session_scope(engine) as s:
        sent = add_message(s, advertising=True)
        grant(s, sent.candidate_id, "partner_info")
    token = LinkSigner.from_settings(web_settings.links).unsubscribe_token(sent.public_id)
    with running(web_settings) as address, socket.create_connection(address) as conn:
        # Timed from before the headers leave: the server's deadline starts once it has read them.
        start = time.monotonic()
        conn.sendall(f"POST /u/{token} HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\nList".encode())
        conn.settimeout(BODY_S / 4)
        # Keep dripping a byte at every read timeout, as a slow client would, until the server closes.
        dripped, answer = 0, b""
        while time.monotonic() - start < MARGIN_S:
            try:
                answer = conn.recv(4096)
            except TimeoutError:
                if dripped < 21:
                    try:
                        conn.sendall(b"-")
                    except OSError:  # closed by the server while we dripped
                        break
                    dripped += 1
                continue
            except ConnectionResetError:
                answer = b""
            break
        waited = time.monotonic() - start
    assert answer == b""
    assert BODY_S <= waited < MARGIN_S
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Consent).where(Consent.granted.is_(False))) == 0
