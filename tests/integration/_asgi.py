"""One request straight into an ASGI app: raw header bytes, and a body whose reading is observable.

httpx normalises headers (ASCII only) and sets Content-Length itself; these tests need neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AsgiResult:
    status: int
    body: bytes
    #: How many body chunks the app asked for (an app that never reads gets none).
    chunks_read: int
    headers: dict[bytes, bytes] = field(default_factory=dict)


async def call(app: Any, method: str, path: str, *, headers: Iterable[tuple[bytes, bytes]] = (),
               chunks: Iterable[bytes] = (), root_path: str = "") -> AsgiResult:
    """Run one request; `chunks` are handed out one per `receive` call, lazily."""
    source = iter(chunks)
    pending: list[bytes] = []
    read = 0
    finished = False

    async def receive() -> dict[str, Any]:
        nonlocal read, finished
        if finished:
            return {"type": "http.disconnect"}
        chunk = pending.pop() if pending else next(source, None)
        if chunk is None:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        nxt = next(source, None)
        if nxt is None:
            finished = True
            return {"type": "http.request", "body": chunk, "more_body": False}
        pending.append(nxt)
        return {"type": "http.request", "body": chunk, "more_body": True}

    status = 0
    out_headers: dict[bytes, bytes] = {}
    body = bytearray()

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers.update({k.lower(): v for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode("latin-1", "replace"),
             "root_path": root_path, "query_string": b"", "headers": list(headers),
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    try:
        await app(scope, receive, send)
    except Exception:
        # Starlette answers 500 and then re-raises: report the 500, as a client would see it.
        if status != 500:
            raise
    return AsgiResult(status=status, body=bytes(body), chunks_read=read, headers=out_headers)
