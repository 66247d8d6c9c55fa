"""Runs one send in a child process (spawned by the crash tests, which SIGKILL it mid-batch)."""

from __future__ import annotations

from pathlib import Path

from junkan.config import Settings
from junkan.db import make_engine
from junkan.mail.backends import build_backend
from junkan.outbox.sender import OutboxSender
from tests.integration._outbox_data import SEND_NOW
from tests.mail_support import live_identity


def child_send(database_url: str, fake_url: str, api_key: str, tmp: str, workers: int, chunk: int) -> None:
    settings = Settings(
        database_url=database_url,
        **live_identity({"backend": "sendgrid", "sendgrid_api_key": api_key, "sendgrid_host": fake_url,
                         "workers": workers, "outbox_dir": Path(tmp) / "outbox"}),
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(database_url)
    backend = build_backend(settings, sleep=lambda _s: None)
    OutboxSender(engine, settings, backend=backend, now=SEND_NOW, chunk_size=chunk).run()
