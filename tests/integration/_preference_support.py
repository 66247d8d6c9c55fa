"""A person who got a real rejection notice through the outbox (file backend), and the link to their own
page taken out of that mail: what the preference page's tests, in and out of the browser, start from."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, select

from junkan.config import ConsentSettings, LinkSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Consent, Job, Message
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.sender import OutboxSender
from tests.integration._outbox_data import SEND_NOW, add_application

PAGE_LINK = re.compile(r"https?://[^\s\"'<>]+/p/[A-Za-z0-9_.-]+")


def page_settings(settings: Settings, base_url: str) -> Settings:
    """The test settings with the web service at `base_url` (the origin the page's POSTs must carry)."""
    return settings.model_copy(update={
        "links": LinkSettings(secret="preference-page-test-secret", public_base_url=base_url),
        "consent": ConsentSettings(talent_pool_days=365),
    })


@dataclass(frozen=True, slots=True)
class Mailed:
    candidate_id: int
    public_id: str
    mail: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.mail.get_body((subtype,))
        assert body is not None, subtype
        return str(body.get_content())  # type: ignore[attr-defined]

    @property
    def link(self) -> str:
        """The preference link of the plain-text part (the HTML part must carry the same one)."""
        (link,) = set(PAGE_LINK.findall(self.part("plain")))
        return link


def mail_a_rejection(engine: Engine, settings: Settings, *, locale: str = "ja",
                     email_key: str | None = None, pool_consent: bool = True) -> Mailed:
    """Reject one application and send its notice through the outbox; returns the mail as written."""
    with session_scope(engine) as s:
        app = add_application(s, locale=locale, email=email_key)
        # Offices where the employer has jobs: the page offers these places.
        s.add_all([Job(source="csv", external_id=f"office-{n}-{app.id}", title="営業", location=place)
                   for n, place in enumerate(("東京都千代田区", "大阪府大阪市", "東京都港区"))])
        if pool_consent:
            s.add(Consent(candidate_id=app.candidate_id, purpose="talent_pool", granted=True,
                          recorded_at=SEND_NOW, source="csv", expires_at=SEND_NOW.replace(year=2027)))
        enqueue_due_notices(s, settings, SEND_NOW)
        cid = app.candidate_id
    OutboxSender(engine, settings, now=SEND_NOW).run()
    with session_scope(engine) as s:
        public_id = s.scalars(select(Message.public_id).where(Message.candidate_id == cid)).one()
    path = Path(settings.mail.outbox_dir) / f"msg-{public_id}.eml"
    mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return Mailed(cid, public_id, mail)
