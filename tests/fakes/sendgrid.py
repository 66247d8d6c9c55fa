"""A local SendGrid v3 Mail Send fake: a real threaded HTTP server on 127.0.0.1 (docs/outbox.md "Sending").

    with SendGridFake(api_key="SG.test") as fake:
        backend = SendGridBackend("SG.test", sender, host=fake.url, ...)
        ...
        assert len(fake.accepted) == 1

It answers `POST /v3/mail/send` as SendGrid does: Bearer key check (401), JSON and contract checks
(400 with `{"errors": [{"message", "field", "help"}]}`), 413 above 30 MB, 202 with an `X-Message-Id`
header, and 200 without one in sandbox mode. Every request is recorded, thread-safely, in `received`.
Failures can be scripted (`fail_next`, `rate_limit_next`, or any callable via `responder`), and a fixed
`latency_s` per request simulates a remote API (the benchmark uses 20 ms with 8 workers).

`validate_schema=True` also checks each body against the official OpenAPI request schema (a copy lives in
`contracts/sendgrid/`), with the spec's one known error patched: top-level `custom_args` is an object.

Run it outside pytest:  python -m tests.fakes.sendgrid --port 8089 --latency-ms 20
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).parent / "contracts" / "sendgrid" / "tsg_mail_v3.yaml"
MAX_BODY_BYTES = 30 * 1024 * 1024
DEFAULT_API_KEY = "SG.fake-test-key"


@dataclass(frozen=True)
class Reply:
    """A scripted answer."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | list[Any] | None = None
    #: Bytes written instead of a proper HTTP answer (status line and all): a broken proxy or server.
    raw: bytes | None = None


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    #: Parsed JSON body (None when it was not JSON).
    body: Any
    status: int = 0
    #: X-Message-Id we answered with (2xx outside sandbox).
    message_id: str | None = None
    sandbox: bool = False
    scripted: bool = False
    at: float = 0.0
    #: The opaque outbox id from personalizations[0].custom_args (kept even when bodies are not).
    junkan_message_id: str | None = None


def _junkan_id(body: Any) -> str | None:
    try:
        value = body["personalizations"][0]["custom_args"]["junkan_message_id"]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) else None


def errors_body(*errors: tuple[str, str | None]) -> dict[str, Any]:
    return {"errors": [{"message": m, "field": f, "help": None} for m, f in errors]}


# -- contract --------------------------------------------------------------------------------------
@cache
def request_schema() -> dict[str, Any]:
    """The spec's PostMailSend request schema, standalone (components attached for $ref), patched."""
    import yaml

    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    schema = copy.deepcopy(
        spec["components"]["requestBodies"]["PostMailSend"]["content"]["application/json"]["schema"]
    )
    # contracts/README.md: the spec types top-level custom_args as string; the API takes an object.
    schema["properties"]["custom_args"]["type"] = "object"
    schema["components"] = spec["components"]
    return schema


@cache
def _validator():  # type: ignore[no-untyped-def]
    import jsonschema

    cls = jsonschema.validators.validator_for(request_schema(), default=jsonschema.Draft202012Validator)
    return cls(request_schema(), format_checker=cls.FORMAT_CHECKER)


def schema_errors(body: Any) -> list[str]:
    """Violations of the official request schema, as "path: message" strings (empty when valid)."""
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(_validator().iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ]


def contract_errors(body: Any) -> list[tuple[str, str | None]]:
    """The checks SendGrid itself makes that the schema alone doesn't express (cheap; always on)."""
    if not isinstance(body, dict):
        return [("Bad Request", None)]
    errs: list[tuple[str, str | None]] = []
    pers = body.get("personalizations")
    if not isinstance(pers, list) or not pers:
        errs.append(
            (
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
            )
        )
        pers = []
    if len(pers) > 1000:
        errs.append(("You may not have more than 1000 personalizations per API request.", "personalizations"))
    for i, p in enumerate(pers):
        to = p.get("to") if isinstance(p, dict) else None
        if not isinstance(to, list) or not to or not all(isinstance(t, dict) and t.get("email") for t in to):
            errs.append(
                (
                    "The to array is required for all personalization objects, and must have at least "
                    "one email object with a valid email address.",
                    f"personalizations.{i}.to",
                )
            )
        if (
            not (isinstance(p, dict) and p.get("subject"))
            and not body.get("subject")
            and not body.get("template_id")
        ):
            errs.append(("The subject is required.", f"personalizations.{i}.subject"))
        args = p.get("custom_args") if isinstance(p, dict) else None
        if args is not None and (
            not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values())
        ):
            errs.append(
                ("Custom args must be an object with string values.", f"personalizations.{i}.custom_args")
            )
    frm = body.get("from")
    if not isinstance(frm, dict) or not frm.get("email"):
        errs.append(("The from object must be provided for every email send.", "from"))
    content = body.get("content")
    if not body.get("template_id"):
        if not isinstance(content, list) or not content:
            errs.append(
                ("Unless a valid template_id is provided, the content parameter is required.", "content")
            )
        else:
            types = [c.get("type") for c in content if isinstance(c, dict)]
            if "text/plain" in types and types[0] != "text/plain":
                errs.append(
                    (
                        "If present, text/plain must be first, followed by text/html, followed by any "
                        "other content.",
                        "content",
                    )
                )
            if "text/html" in types and "text/plain" in types and types.index("text/html") != 1:
                errs.append(("text/html must follow text/plain.", "content"))
            if any(not (isinstance(c, dict) and c.get("value")) for c in content):
                errs.append(
                    ("The content value must be a string at least one character in length.", "content")
                )
    cats = body.get("categories")
    if cats is not None:
        if not isinstance(cats, list) or len(cats) > 10:
            errs.append(("Too many categories. Maximum 10 per message.", "categories"))
        elif any(not isinstance(c, str) or len(c) > 255 for c in cats):
            errs.append(("A category cannot exceed 255 characters.", "categories"))
    args = body.get("custom_args")
    if args is not None and len(json.dumps(args).encode()) >= 10_000:
        errs.append(("Custom args must be less than 10000 bytes.", "custom_args"))
    headers = body.get("headers")
    if headers is not None:
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            errs.append(("Invalid type. Expected: object with string values.", "headers"))
        else:
            reserved = {
                "x-sg-id",
                "x-sg-eid",
                "received",
                "dkim-signature",
                "content-type",
                "content-transfer-encoding",
                "to",
                "from",
                "subject",
                "reply-to",
                "cc",
                "bcc",
            }
            for name in headers:
                if name.lower() in reserved:
                    errs.append((f"The header {name} is reserved and cannot be overridden.", "headers"))
    asm = body.get("asm")
    if asm is not None and not (isinstance(asm, dict) and isinstance(asm.get("group_id"), int)):
        errs.append(("The asm.group_id must be an integer.", "asm.group_id"))
    return errs


# -- event webhook ---------------------------------------------------------------------------------
class EventWebhook:
    """SendGrid's event webhook for a fake: every `interval_s` it posts one `processed` event for each send
    the fake accepted since the last batch (with `sg_message_id` and the `junkan_message_id` custom arg, as
    SendGrid does), signed by `sign(body, timestamp) -> headers`, to `url`. A batch that is not answered 2xx
    is posted again, as SendGrid retries."""

    def __init__(self, fake: SendGridFake, url: str, sign: Callable[[bytes, int], dict[str, str]],
                 interval_s: float = 0.2) -> None:
        self.fake, self.url, self.sign, self.interval_s = fake, url, sign, interval_s
        self.posted = 0  # accepted sends whose event was acknowledged
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sendgrid-event-webhook", daemon=True)

    def __enter__(self) -> EventWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def pending(self) -> int:
        """Accepted sends whose event has not been acknowledged yet."""
        return len(self.fake.accepted) - self.posted

    def _run(self) -> None:
        import urllib.request

        while not self._stop.wait(self.interval_s):
            batch = self.fake.accepted[self.posted:]
            if not batch:
                continue
            now = int(time.time())
            events = [{"event": "processed", "email": "redacted@example.invalid", "timestamp": now,
                       "sg_event_id": secrets.token_urlsafe(16),
                       "sg_message_id": f"{r.message_id}.filterdrecv-1-1.0",
                       "junkan_message_id": r.junkan_message_id} for r in batch]
            body = json.dumps(events).encode()
            req = urllib.request.Request(self.url, data=body, method="POST", headers=self.sign(body, now))
            try:
                with urllib.request.urlopen(req, timeout=30) as answer:
                    if 200 <= answer.status < 300:
                        self.posted += len(batch)
            except OSError:
                continue  # posted again next time, as SendGrid retries


# -- server ----------------------------------------------------------------------------------------
class SendGridFake:
    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        validate_schema: bool = False,
        responder: Callable[[ReceivedRequest], Reply | None] | None = None,
        keep_bodies: bool = True,
        empty_suppressions: bool = False,
    ) -> None:
        self.api_key = api_key
        #: True also answers the suppression list reads (`GET /v3/suppression/...`, ASM group suppressions)
        #: with empty lists, so a whole `daily` can run against this one host.
        self.empty_suppressions = empty_suppressions
        #: False drops raw/body after answering (the 10k-mail benchmark keeps only ids and statuses).
        self.keep_bodies = keep_bodies
        self.latency_s = latency_s
        self.validate_schema = validate_schema
        #: Called for every authenticated, well-formed send before the default answer; a Reply overrides it.
        self.responder = responder
        self.received: list[ReceivedRequest] = []
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SendGridFake:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # prompt shutdown between tests
                name="sendgrid-fake",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SendGridFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting --
    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` sends with `status` (a SendGrid-style error body unless given)."""
        if body is None:
            body = errors_body((_DEFAULT_MESSAGES.get(status, "error"), None))
        with self._lock:
            for _ in range(times):
                self._script.append(Reply(status, dict(headers or {}), body))

    def rate_limit_next(self, reset_at: float | int, *, times: int = 1, limit: int = 600) -> None:
        """429 with X-RateLimit-Limit/-Remaining/-Reset (unix seconds) for the next `times` sends."""
        self.fail_next(
            429,
            times=times,
            headers={
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(reset_at)),
            },
            body=errors_body(("too many requests", None)),
        )

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.received.clear()

    # -- views (snapshots, safe while the server runs) --
    def snapshot(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self.received)

    @property
    def accepted(self) -> list[ReceivedRequest]:
        """Real (non-sandbox) sends answered 202."""
        return [r for r in self.snapshot() if r.status == 202]

    def accepted_message_ids(self) -> list[str | None]:
        return [r.junkan_message_id for r in self.accepted]

    # -- request handling --
    def _next_scripted(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, req: ReceivedRequest) -> None:
        if not self.keep_bodies:
            req.raw, req.body = b"", None
        with self._lock:
            self.received.append(req)

    def _is_suppression_read(self, req: ReceivedRequest) -> bool:
        path = req.path.split("?")[0]
        return self.empty_suppressions and req.method == "GET" and (
            path.startswith("/v3/suppression/")
            or (path.startswith("/v3/asm/groups/") and path.endswith("/suppressions")))

    def _answer(self, req: ReceivedRequest) -> Reply:
        if self._is_suppression_read(req):
            if req.headers.get("authorization") != f"Bearer {self.api_key}":
                return Reply(401, body=errors_body(("authorization required", None)))
            return Reply(200, body=[])
        if req.path.split("?")[0] != "/v3/mail/send":
            return Reply(404, body=errors_body(("not found", None)))
        if req.method != "POST":
            return Reply(405, body=errors_body(("method not allowed", None)))
        if req.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(
                401,
                body=errors_body(("The provided authorization grant is invalid, expired, or revoked", None)),
            )
        if len(req.raw) > MAX_BODY_BYTES:
            return Reply(413, body=errors_body(("content too large", None)))
        scripted = self._next_scripted()
        if scripted is not None:
            req.scripted = True
            return scripted
        if req.body is None:
            return Reply(400, body=errors_body(("Bad Request", None)))
        errs = contract_errors(req.body)
        if self.validate_schema:
            errs += [(msg, None) for msg in schema_errors(req.body)]
        if errs:
            return Reply(400, body=errors_body(*errs))
        if self.responder is not None:
            custom = self.responder(req)
            if custom is not None:
                req.scripted = True
                return custom
        sandbox = bool(((req.body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"))
        if sandbox:
            req.sandbox = True
            return Reply(200)
        req.message_id = _sendgrid_message_id()
        return Reply(202, headers={"X-Message-Id": req.message_id})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "SendGridFake/1.0"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                req = ReceivedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    raw=raw,
                    body=body,
                    at=time.time(),
                    junkan_message_id=_junkan_id(body),
                )
                if fake.latency_s > 0:
                    time.sleep(fake.latency_s)  # simulated network + API time, not a synchronisation wait
                reply = fake._answer(req)
                req.status = reply.status
                fake._record(req)
                if reply.raw is not None:
                    self.wfile.write(reply.raw)
                    self.close_connection = True
                    return
                payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output (and any personal data in paths) out of stderr

        return Handler


_DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "authorization required",
    403: "access forbidden",
    404: "not found",
    413: "content too large",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
}


def _sendgrid_message_id() -> str:
    # SendGrid's X-Message-Id is a 22-character URL-safe token.
    return secrets.token_urlsafe(16)[:22]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the local SendGrid Mail Send fake.")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--validate-schema", action="store_true")
    args = parser.parse_args()
    fake = SendGridFake(
        args.api_key,
        latency_s=args.latency_ms / 1000,
        port=args.port,
        validate_schema=args.validate_schema,
        keep_bodies=False,
    )
    print(f"SendGrid fake on {fake.url} (key {args.api_key!r}); Ctrl-C to stop", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    fake.start()
    try:
        stop.wait()
    finally:
        fake.stop()
        print(f"received {len(fake.received)} requests, accepted {len(fake.accepted)}", flush=True)


if __name__ == "__main__":
    main()
