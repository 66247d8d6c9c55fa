"""The HTTP server `junkan web` starts: uvicorn's h11 protocol with the two deadlines uvicorn lacks.

uvicorn closes an idle keep-alive connection (`timeout_keep_alive`), but nothing else: a client that sends
half its request headers, or drips its body a byte at a time, holds its connection (and, for a body, an
app task) for as long as it likes. A few thousand such clients exhaust the process's file descriptors.
`TimedH11Protocol` gives every request a deadline for its headers (from the moment the connection opens,
or the previous response ends) and one for its whole body (from the moment its headers are in). Past a
deadline the connection is closed: the app, if it was waiting for the body, sees a disconnect and records
nothing (see `junkan.web.app`).

A reverse proxy in front should enforce the same limits itself (docs/operations.md "Web service").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar, Literal

from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

log = logging.getLogger("junkan.web")

#: Complete request headers within this many seconds; nginx's `client_header_timeout` defaults to 60 s,
#: but our requests are one line and a few headers, sent at once by every real client.
HEADER_TIMEOUT_S = 10.0
#: The whole body within this many seconds of the headers: SendGrid's webhook batches (the largest bodies
#: we take, typically well under 1 MB) arrive in far less; the unsubscribe forms are a few bytes.
BODY_TIMEOUT_S = 30.0
#: uvicorn's own idle timeout between two requests on one connection (its default, stated here).
KEEP_ALIVE_S = 5
#: h11's cap on an incomplete request line plus headers (its default, stated here): bigger gets 400.
MAX_HEADER_BYTES = 16 * 1024

_Phase = Literal["request headers", "request body"]


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers or body come too slowly."""

    header_timeout_s: ClassVar[float] = HEADER_TIMEOUT_S
    body_timeout_s: ClassVar[float] = BODY_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: _Phase | None = None
        #: The request whose headers were last seen complete: a new cycle object means a new request.
        self._seen: RequestResponseCycle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect("request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._expect(None)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        cycle = self.cycle
        if cycle is None:
            return
        if cycle is not self._seen:  # a new request's headers are complete
            self._seen = cycle
            self._expect("request body" if cycle.more_body else None)
        elif self._phase == "request body" and not cycle.more_body:
            self._expect(None)

    def on_response_complete(self) -> None:
        # Armed before uvicorn's own handling, which may start a pipelined request (then handle_events
        # above moves the deadline on to that request's body).
        if not self.transport.is_closing():
            self._expect("request headers")
        super().on_response_complete()

    def _expect(self, phase: _Phase | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase is not None:
            timeout = self.header_timeout_s if phase == "request headers" else self.body_timeout_s
            self._deadline = self.loop.call_later(timeout, self._expired, phase, timeout)

    def _expired(self, phase: _Phase, timeout: float) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            # Debug only: a slow-client flood must not become a log flood.
            log.debug("connection closed: %s not complete within %.0f s", phase, timeout)
            self.transport.close()


def server_options() -> dict[str, Any]:
    """uvicorn options for every server Junkan starts (with or without workers)."""
    return {
        "http": TimedH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
