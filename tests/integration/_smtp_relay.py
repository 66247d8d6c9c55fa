"""A real local SMTP relay for the tests (aiosmtpd on 127.0.0.1): plain, STARTTLS with a required login,
or implicit TLS, with a self-signed certificate; a handler that records every message and can refuse
recipients with scripted replies, and one that stops answering."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "mailer", "s3cret"
Mode = Literal["plain", "starttls", "ssl"]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any
    tls: bool
    authenticated: bool


@dataclass
class Recorder:
    """aiosmtpd handler: records every message; can refuse recipients with a scripted reply."""

    messages: list[Received] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        with self.lock:
            reply = self.rcpt_replies.pop(0) if self.rcpt_replies else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            self.messages.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=envelope.content,
                    peer=session.peer,
                    authenticated=bool(session.authenticated),
                    # STARTTLS shows on the session, implicit TLS on the transport.
                    tls=session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(parsed(m)["Message-ID"]) for m in self.messages]


@dataclass
class SilentAfter(Recorder):
    """Takes the message (or stalls at RCPT TO) and then never replies, like a relay that hangs."""

    stall_at: str = "DATA"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.stall_at == "RCPT":
            await asyncio.sleep(3600)  # cancelled when the controller stops
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(3600)


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: let aiosmtpd answer "535 ... credentials invalid" itself.
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tls_files(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost, generated with `cryptography`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls_files))
    return ctx


@contextmanager
def relay(
    handler: Recorder, mode: Mode = "plain", tls_files: tuple[Path, Path] | None = None
) -> Iterator[Controller]:
    """A running relay. `starttls` requires STARTTLS and then a login (USER / PASSWORD); `ssl` is TLS from
    the first byte, login optional (aiosmtpd only counts STARTTLS as "TLS" for its AUTH gate)."""
    options: dict[str, Any] = {}
    if mode == "starttls":
        assert tls_files is not None
        options = {"tls_context": server_context(tls_files), "require_starttls": True,
                   "authenticator": authenticator, "auth_required": True, "auth_require_tls": True}
    elif mode == "ssl":
        assert tls_files is not None
        options = {"ssl_context": server_context(tls_files), "authenticator": authenticator,
                   "auth_required": False, "auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def parsed(received: Received) -> email.message.EmailMessage:
    return email.message_from_bytes(received.content, policy=policy.default)  # type: ignore[return-value]
