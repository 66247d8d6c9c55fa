"""Who a mail is from, as every backend and template shows it: the From display name, Reply-To, the
recruiting desk of the signature, and the Date header in the notice time zone.

One place, so that SendGrid, SMTP and the `.eml` files all show the reader the same sender.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from junkan.config import RecruitingContact, Settings
from junkan.mail.headers import clean_display_name


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
    """RFC 5322 Date of `moment` in the notice time zone: "Tue, 17 Nov 2026 09:00:00 +0900"."""
    if moment.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware datetime")
    return format_datetime(moment.astimezone(ZoneInfo(timezone)))
