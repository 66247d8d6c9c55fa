"""Pieces the mail backend tests share: one rendered notice as the backends receive it, and the check
that retry waits follow the jittered schedule."""

from __future__ import annotations

from collections.abc import Sequence

from junkan.config import SenderSettings
from junkan.mail.backends import OutgoingMail
from junkan.mail.templates import NoticeContext, PartnerBlock, TemplateStore, render_notice

UNSUB = "https://junkan.example/u/UNSUB-token"
STORE = TemplateStore()


def notice_mail(
    message_id: str = "msg_0001",
    *,
    partner: bool = True,
    job_title: str = "営業職",
    unsubscribe: str = UNSUB,
    **overrides: object,
) -> OutgoingMail:
    """A real rendered rejection notice for 山田 太郎 <taro.yamada@example.com>, with the partner section
    unless `partner=False`, rendered with the `unsubscribe` link (also its `unsubscribe_url`);
    `overrides` then replace OutgoingMail fields."""
    rendered = render_notice(
        STORE,
        NoticeContext(
            kind="rejection",
            sender=SenderSettings(),
            candidate_name="山田 太郎",
            job_title=job_title,
            partner=PartnerBlock("キャリアリレー", "https://junkan.example/r/tok") if partner else None,
            unsubscribe_url=unsubscribe,
        ),
    )
    values: dict[str, object] = {
        "message_id": message_id,
        "to_email": "taro.yamada@example.com",
        "to_name": "山田 太郎",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "kind": "rejection",
        "template_name": rendered.template_name,
        "unsubscribe_url": unsubscribe,
        "advertising": rendered.advertising,
    }
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def assert_backoff(sleeps: Sequence[float], nominal: Sequence[float]) -> None:
    """Each wait lies in [d/2, d] of its nominal exponential step d (equal jitter, junkan.backoff)."""
    assert len(sleeps) == len(nominal), f"waits {list(sleeps)}, expected {len(nominal)}"
    for got, d in zip(sleeps, nominal, strict=True):
        assert d / 2 <= got <= d, f"wait {got} outside [{d / 2}, {d}] (all: {list(sleeps)})"
