"""Who a mail is from, as every backend and template shows it: the From display name, Reply-To, the
recruiting desk of the signature, and the Date header in the business time zone.

One place, so that SendGrid, SMTP and the `.eml` files all show the reader the same sender: the backends
and `build_message` take one `SenderHeaders`, built once from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from junkan.config import DEFAULT_BUSINESS_TIMEZONE, RecruitingContact, Settings
from junkan.mail.headers import clean_display_name

#: The business time zone's default: what the Date header shows when no settings say otherwise.
DEFAULT_TIMEZONE: str = DEFAULT_BUSINESS_TIMEZONE


def from_display_name(settings: Settings) -> str:
    """`mail.from_name`, else "<company> <desk>", e.g. 株式会社サンプル 採用担当."""
    if settings.mail.from_name:
        return clean_display_name(settings.mail.from_name)
    desk = settings.sender.recruiting_contact.name
    return clean_display_name(f"{settings.sender.company_name} {desk}")


def recruiting_contact(settings: Settings) -> RecruitingContact:
    """The desk of the signature, its address filled in: its own, else Reply-To, else From."""
    desk = settings.sender.recruiting_contact
    if desk.email:
        return desk
    return desk.model_copy(update={"email": settings.mail.reply_to or settings.mail.from_email})


def date_header(moment: datetime, timezone: str) -> str:
    """RFC 5322 Date of `moment` in the business time zone: "Tue, 17 Nov 2026 09:00:00 +0900"."""
    if moment.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware datetime")
    return format_datetime(moment.astimezone(ZoneInfo(timezone)))


@dataclass(frozen=True, slots=True)
class SenderHeaders:
    """The sender as the headers of every mail name it, whichever backend delivers it."""

    from_email: str
    #: Display name of From, and of Reply-To: replies reach the desk the From line names.
    from_name: str | None = None
    reply_to: str | None = None
    #: The mailto: alternative of List-Unsubscribe.
    unsubscribe_mailto: str | None = None
    #: The business time zone the Date header is written in.
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderHeaders:
        mail = settings.mail
        return cls(
            from_email=mail.from_email,
            from_name=from_display_name(settings),
            reply_to=mail.reply_to,
            unsubscribe_mailto=mail.unsubscribe_mailto or settings.sender.contact_email,
            timezone=settings.business.timezone,
        )
