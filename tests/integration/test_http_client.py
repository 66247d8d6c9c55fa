"""The one retrying vendor client (junkan/http.py): timeouts, connection failures, Retry-After, wait caps."""

from __future__ import annotations

import email.utils
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer

from junkan.config import MailSettings, PartnerSettings
from junkan.http import HttpError, RetryingClient, RetryPolicy, build_client, parse_retry_after
from tests.fakes._common import FakeClock


class _StallFirstRequest(BaseHTTPRequestHandler):
    """Holds the first request open without answering (until released), answers later ones at once."""

    release = threading.Event()
    seen = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).seen += 1
            first = self.seen == 1
        if first:
            self.release.wait(timeout=30)
            return
        body = json.dumps([{"id": 1}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stalling_server() -> Iterator[str]:
    _StallFirstRequest.release = threading.Event()
    _StallFirstRequest.seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StallFirstRequest)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _StallFirstRequest.release.set()
        server.shutdown()
        server.server_close()


def test_a_read_timeout_is_retried(stalling_server: str) -> None:
    clock = FakeClock()
    client = RetryingClient(vendor="test", timeout_s=0.3, sleep=clock.sleep, clock=clock)
    try:
        body, _ = client.get_json(f"{stalling_server}/things")
    finally:
        client.close()
    assert body == [{"id": 1}]
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5
    assert client.stats["retries"] == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    client = RetryingClient(vendor="test", policy=RetryPolicy(max_retries=2), sleep=clock.sleep, clock=clock)
    with pytest.raises(HttpError) as caught:
        client.request("GET", f"http://127.0.0.1:{port}/v3/jobs?secret=1")
    client.close()
    assert caught.value.retryable and caught.value.status is None
    assert str(caught.value) == "test GET /v3/jobs connection failed after 3 attempts (ConnectError)"
    assert len(clock.sleeps) == 2


def test_retry_after_as_http_date_and_the_wait_cap(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    when = email.utils.formatdate(clock() + 30, usegmt=True)
    httpserver.expect_oneshot_request("/a").respond_with_data("", status=429, headers={"Retry-After": when})
    httpserver.expect_oneshot_request("/a").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    httpserver.expect_oneshot_request("/a").respond_with_json({"ok": True})
    client = RetryingClient(vendor="test", policy=RetryPolicy(max_wait_s=60), sleep=clock.sleep, clock=clock)

    body, _ = client.get_json(httpserver.url_for("/a"))
    client.close()

    assert body == {"ok": True}
    assert clock.sleeps == [30.0, 60.0]  # the day-long Retry-After is capped


def test_error_messages_carry_no_query_string_or_body(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/v3/candidates").respond_with_data(
        "taro@example.jp is not allowed", status=400, content_type="text/plain"
    )
    client = RetryingClient(vendor="test", sleep=FakeClock().sleep)
    with pytest.raises(HttpError) as caught:
        client.request("GET", httpserver.url_for("/v3/candidates"), params={"email": "taro@example.jp"})
    client.close()
    assert str(caught.value) == "test GET /v3/candidates failed with 400: bad request"
    assert "taro" not in str(caught.value)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("5", 0) == 5.0
    assert parse_retry_after(" 1.5 ", 0) == 1.5
    assert parse_retry_after("-3", 0) == 0.0
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None


def test_build_client_takes_timeout_and_retries_from_settings(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    client = build_client("partner p", PartnerSettings(max_retries=1, timeout_s=2.5), sleep=clock.sleep,
                          clock=clock)
    httpserver.expect_request("/busy").respond_with_data("down", status=503)
    with pytest.raises(HttpError, match=r"^partner p GET /busy answered 503 after 2 attempts") as caught:
        client.request("GET", httpserver.url_for("/busy"))
    client.close()
    assert caught.value.vendor == "partner p" and caught.value.status == 503 and caught.value.retryable
    assert len(clock.sleeps) == 1


def test_a_spent_rate_limit_window_holds_the_next_request(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    client = build_client("SendGrid", MailSettings(), sleep=clock.sleep, clock=clock)
    httpserver.expect_request("/list").respond_with_json([], headers={"X-RateLimit-Remaining": "0"})
    client.get_json(httpserver.url_for("/list"))
    client.get_json(httpserver.url_for("/list"))
    client.close()
    assert clock.sleeps == [10.0]  # no reset header: the default window
