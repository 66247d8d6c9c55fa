"""What an opt-out stops, end to end: the one click stops advertising only, the page's second choice all mail.

One person with every consent gets a rejection notice with the partner section, clicks the one-click
unsubscribe (as Gmail's List-Unsubscribe POST does), and then: their next rejection notice is still sent,
without the partner section; a re-contact mail and a renewal request are not. After "stop all mail", the
next notice is suppressed too.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.config import ConsentSettings, Settings
from junkan.consent.expiry import expires_at
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Consent, Job, Message, RejectionReason
from junkan.links import LinkSigner
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.recontact import send_recontact
from junkan.outbox.renewal_mail import enqueue_renewals
from junkan.outbox.sender import OutboxSender
from junkan.web import create_app
from tests.integration._outbox_data import DECIDED, SEND_NOW, jst

CLICK = SEND_NOW + timedelta(hours=1)
#: Friday 20th, 10:00 JST: the second decision (Wednesday 11:00) is due from 09:00.
LATER = jst(2026, 11, 20, 10, 0)
LAST = jst(2026, 11, 25, 10, 0)


def _decide(s: Session, cand: Candidate, decided: datetime) -> Application:
    job = Job(source="csv", external_id=f"J-{secrets.token_hex(3)}", title="バックエンドエンジニア")
    reason = RejectionReason(source="csv", external_id=f"R-{secrets.token_hex(3)}", name="skills",
                             category="other")
    s.add_all([job, reason])
    s.flush()
    app = Application(source="csv", external_id=f"A-{secrets.token_hex(3)}", candidate_id=cand.id,
                      job_id=job.id, status="rejected", decided_at=decided, reason_id=reason.id,
                      content_hash="x")
    s.add(app)
    s.flush()
    return app


def _notices(engine: Engine, settings: Settings, now: datetime) -> None:
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, now)
    OutboxSender(engine, settings, now=now).run()


def _message(engine: Engine, application_id: int) -> Message:
    with Session(engine) as s:
        msg = s.scalars(select(Message).where(Message.application_id == application_id)).one()
        s.expunge(msg)
        return msg


def _click(settings: Settings, public_id: str, at: datetime, body: dict[str, str]) -> int:
    async def go() -> int:
        app = create_app(settings, clock=lambda: at.timestamp())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://x") as client:
            token = LinkSigner.from_settings(settings.links).unsubscribe_token(public_id)
            return (await client.post(f"/u/{token}", data=body)).status_code

    return anyio.run(go)


def test_one_click_stops_advertising_but_not_the_next_notice(engine: Engine, settings: Settings) -> None:
    cfg = settings.model_copy(update={"consent": ConsentSettings(renewal_enabled=True)})
    with session_scope(engine) as s:
        cand = Candidate(email_key="hanako@example.jp", display_name="佐藤 花子", locale="ja", tags=[])
        s.add(cand)
        s.flush()
        granted = datetime(2025, 11, 26, tzinfo=UTC)  # talent_pool lapses 2026-11-26: renewal due the 20th
        for purpose in ("partner_info", "recontact", "talent_pool"):
            s.add(Consent(candidate_id=cand.id, purpose=purpose, granted=True, recorded_at=granted,
                          source="csv", expires_at=expires_at(purpose, True, granted, cfg.consent)))
        first = _decide(s, cand, DECIDED)
        cand_id = cand.id
    _notices(engine, cfg, SEND_NOW)
    sent = _message(engine, first.id)
    assert sent.state == "accepted" and sent.advertising
    assert "無料キャリア相談のご案内" in sent.body_text  # type: ignore[operator]

    assert _click(cfg, sent.public_id, CLICK, {"List-Unsubscribe": "One-Click"}) == 200

    with session_scope(engine) as s:
        second = _decide(s, s.get(Candidate, cand_id), jst(2026, 11, 18, 11, 0))  # type: ignore[arg-type]
        recontact = Message(public_id=secrets.token_urlsafe(16), logical_key="match:1:recontact",
                            kind="recontact", candidate_id=cand_id, state="pending", due_at=LATER,
                            advertising=True, locale="ja")
        s.add(recontact)
        s.flush()
        recontact_id = recontact.id
    _notices(engine, cfg, LATER)
    notice = _message(engine, second.id)
    assert notice.state == "accepted" and not notice.advertising  # still sent, now without the partner
    assert "無料キャリア相談のご案内" not in notice.body_text  # type: ignore[operator]
    assert "選考に関するご連絡は停止されません" in notice.body_text  # type: ignore[operator]
    assert f"msg-{notice.public_id}.eml" in {p.name for p in Path(cfg.mail.outbox_dir).glob("*.eml")}

    counts = send_recontact(engine, cfg, now=LATER)
    with session_scope(engine) as s:
        assert s.get(Message, recontact_id).state == "cancelled"  # type: ignore[union-attr]
        renewals = enqueue_renewals(s, cfg, LATER)
        assert renewals.counts()["opted_out"] == 1
    assert (counts.sent, counts.cancelled) == (0, 1)

    # The page's second choice: now nothing at all goes to the address.
    assert _click(cfg, sent.public_id, LATER, {"choice": "all_mail"}) == 200
    with session_scope(engine) as s:
        third = _decide(s, s.get(Candidate, cand_id), jst(2026, 11, 20, 11, 0))  # type: ignore[arg-type]
    _notices(engine, cfg, LAST)
    assert _message(engine, third.id).state == "suppressed"
