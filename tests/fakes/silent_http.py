"""Real local TCP servers that misbehave the way a provider can: one reads each HTTP request completely and
never answers (the client's read timeout fires after the request went out whole), one never accepts
connections at all (its backlog is full, so the client's connect times out and nothing is ever sent).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawRequest:
    request_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class SilentHTTPServer:
    """Accepts, reads the whole request (headers and Content-Length body), records it, then says nothing
    until the server stops - or, with `hang_up=True`, closes the connection without an answer."""

    def __init__(self, *, hang_up: bool = False) -> None:
        self.hang_up = hang_up
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._lock = threading.Lock()
        self._received: list[RawRequest] = []
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, name="silent-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def received(self) -> list[RawRequest]:
        with self._lock:
            return list(self._received)

    def __enter__(self) -> SilentHTTPServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        self._accepter.join(timeout=10)
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._read_request, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> None:
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            fields = (line.partition(":") for line in lines[1:])
            headers = {name.strip().lower(): value.strip() for name, _, value in fields}
            length = int(headers.get("content-length", "0"))
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
        except OSError:
            return
        with self._lock:
            self._received.append(RawRequest(lines[0], headers, body[:length]))
        if self.hang_up:
            conn.close()
        # Otherwise never answer: the connection stays open until the client gives up or the server stops.


@contextmanager
def never_accepting_port() -> Iterator[int]:
    """A port whose listener never accepts and whose accept queue is full: the kernel drops further SYNs,
    so a client's connect times out (Linux) and no byte of a request can reach the server."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = int(listener.getsockname()[1])
    fillers: list[socket.socket] = []
    try:
        for _ in range(64):
            probe = socket.socket()
            probe.settimeout(0.2)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                probe.close()
                break  # the queue is full: this connect was not answered
            fillers.append(probe)
        else:
            raise RuntimeError("could not fill the listen backlog")
        yield port
    finally:
        for s in fillers:
            s.close()
        listener.close()
