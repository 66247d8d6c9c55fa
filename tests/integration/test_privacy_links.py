"""After an erasure, the person's mailed links record nothing and answer as unknown links do, and the
`file` backend's copies of their mails are gone (issue 19 §2), on both databases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Message
from junkan.db.models_engagement import Click, EmailEvent
from junkan.links import LinkSigner
from junkan.mail.backends.base import OutgoingMail
from junkan.mail.backends.file import FileBackend
from junkan.mail.sender_identity import SenderHeaders
from junkan.outbox.renewal_mail import run_renewals
from junkan.privacy.erasure import erase
from junkan.privacy.export import export_person
from junkan.web import create_app
from tests.integration.test_consent_renewal import DAY, NOW, SECRET, cfg, person  # noqa: F401 (fixture)

ERASED, KEPT = "erased@example.jp", "kept@example.jp"


def _client(settings: Settings, at: datetime) -> httpx.AsyncClient:
    app = create_app(settings, clock=lambda: at.timestamp())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jobs.example.co.jp")


def _sent(engine: Engine, cfg: Settings) -> dict[str, str]:  # noqa: F811
    """A renewal mail to each of two people, written by the file backend; public id by address."""
    with session_scope(engine) as s:
        for address in (ERASED, KEPT):
            person(s, granted_days_ago=360, email_key=address)
    assert run_renewals(engine, cfg, RunClock.fixed(NOW)).counts()["renewals_sent"] == 2
    with Session(engine) as s:
        return dict(s.execute(select(Candidate.email_key, Message.public_id)
                              .join(Message, Message.candidate_id == Candidate.id)).all())


def _records(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
                for t in (Consent, Click, EmailEvent, Message)}


@pytest.mark.anyio
async def test_an_erased_persons_links_record_nothing_and_answer_as_unknown_links(
    engine: Engine, cfg: Settings  # noqa: F811
) -> None:
    ids = _sent(engine, cfg)
    erase(engine, cfg, ERASED, reason=None, now=NOW + DAY)
    signer = LinkSigner(SECRET, clock=lambda: (NOW + DAY).timestamp())
    unknown = "f" * 22

    def paths(public_id: str) -> list[tuple[str, str]]:
        renew, unsubscribe = signer.renewal_token(public_id), signer.unsubscribe_token(public_id)
        click = signer.tracking_token(public_id, "unsubscribe")
        return [("POST", f"/c/{renew}"), ("GET", f"/c/{renew}"), ("GET", f"/u/{unsubscribe}"),
                ("POST", f"/u/{unsubscribe}"), ("GET", f"/r/{click}")]

    before = _records(engine)
    async with _client(cfg, NOW + 2 * DAY) as client:
        answers: list[Any] = []
        for public_id in (ids[ERASED], unknown):
            for method, path in paths(public_id):
                resp = await client.request(method, path, data={"renew": "talent_pool"}
                                            if method == "POST" else None)
                answers.append((method, path[:3], resp.status_code, resp.text))
        assert _records(engine) == before  # nothing recorded for the erased person
        # Her links answer exactly as links of a message that never existed.
        half = len(answers) // 2
        assert answers[:half] == answers[half:]
        assert {a[2] for a in answers} == {404}
        # The kept person's renewal link still works.
        kept = await client.post(paths(ids[KEPT])[0][1], data={"renew": "talent_pool"})
    assert kept.status_code == 200 and _records(engine)["consent"] == before["consent"] + 1


def test_the_file_backends_copies_of_an_erased_persons_mails_are_removed(
    engine: Engine, cfg: Settings  # noqa: F811
) -> None:
    ids = _sent(engine, cfg)
    outbox = cfg.mail.outbox_dir
    # A dry run's copy is named after a throwaway id: only its To header says whose it is.
    dry = FileBackend(outbox, SenderHeaders.from_settings(cfg))
    for address in (ERASED.upper(), KEPT):
        dry.send(OutgoingMail(message_id=f"dry-{address[:4]}", to_email=address, to_name="山田 太郎",
                              subject="件名", text="本文", html=None, kind="rejection", template_name="t"),
                 dry_run=True)
    assert {p.name for p in outbox.glob("*.eml")} == {f"msg-{ids[ERASED]}.eml", f"msg-{ids[KEPT]}.eml"}
    assert len(list((outbox / "dry-run").glob("*.eml"))) == 2

    # An access request lists them (they are held about her too).
    with engine.connect() as conn:
        listed = export_person(conn, ERASED, cfg.retention.key_bytes(), links=cfg.links, outbox_dir=outbox)
    assert {Path(p).name for p in listed["files"]} == {f"msg-{ids[ERASED]}.eml", "msg-dry-ERAS.eml"}

    result = erase(engine, cfg, ERASED, reason=None, now=NOW + DAY)

    assert result.files == 2
    left = [p.read_bytes() for p in outbox.rglob("*.eml")]
    assert len(left) == 2 and not any(ERASED.encode() in b or ERASED.upper().encode() in b for b in left)
