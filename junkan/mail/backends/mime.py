"""RFC 5322 / MIME messages for the SMTP and file backends, and the List-Unsubscribe headers all share.

Headers carrying Japanese are RFC 2047 encoded (UTF-8); bodies are multipart/alternative, text/plain
first. For SMTP the bodies are base64 (7-bit safe through any relay); for .eml files they stay 8-bit
UTF-8 so a person can read them in a text editor as well as in a mail client.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from urllib.parse import quote

from junkan.mail.backends.base import OutgoingMail
from junkan.mail.headers import clean_display_name, clean_subject
from junkan.mail.sender_identity import SenderHeaders, date_header

#: CRLF line endings. refold_source="none" only affects headers stored raw (List-Unsubscribe below):
#: the default would RFC 2047-encode a long URL, which no mail client would then recognise as a link.
MAIL_POLICY = policy.SMTP.clone(refold_source="none")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")
#: Never legal raw in a URI inside <...>; stripping them keeps a bad value from breaking the header.
_URI_BREAKERS = re.compile(r"[\x00-\x20\x7f<>]")


def _header_uri(value: str | None) -> str:
    # RFC 2369: a literal comma inside a List-* URL must be escaped.
    return _URI_BREAKERS.sub("", value or "").replace(",", "%2C")


def safe_id(message_id: str) -> str:
    """The message id where it must fit a Message-ID local part or a file name."""
    if _SAFE_ID.match(message_id) and not message_id.startswith("."):
        return message_id
    cleaned = _SAFE_FILE.sub("_", message_id)[:64].lstrip(".")
    return f"{cleaned}-{hashlib.sha256(message_id.encode()).hexdigest()[:12]}"


def message_id_header(message_id: str, from_email: str) -> str:
    domain = from_email.rpartition("@")[2] or "junkan.invalid"
    return f"<junkan.{safe_id(message_id)}@{domain}>"


def list_unsubscribe_headers(mail: OutgoingMail, mailto: str | None) -> dict[str, str]:
    """RFC 2369 + RFC 8058 headers; empty when the mail has no unsubscribe URL.

    The one-click POST goes to `unsubscribe_post_url` when given, else to `unsubscribe_url` (the web app
    accepts POST there). The mailto alternative names only the opaque message id.
    """
    url = _header_uri(mail.unsubscribe_post_url or mail.unsubscribe_url)
    if not url:
        return {}
    targets = [f"<{url}>"]
    mailto = _header_uri(mailto)
    if mailto:
        targets.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + mail.message_id)}>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _needs_base64(text: str) -> bool:
    return any(len(line.encode("utf-8")) > 900 for line in text.splitlines())


def build_message(
    mail: OutgoingMail, sender: SenderHeaders, *, readable: bool = False, now: datetime | None = None
) -> EmailMessage:
    """One notice as an EmailMessage. `readable=True` keeps bodies 8-bit (for .eml files). Reply-To
    carries the From display name (the same desk); Date is `now` in the sender's time zone (+0900 for
    JST)."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = clean_subject(mail.subject)
    sender_name = clean_display_name(sender.from_name)
    msg["From"] = Address(display_name=sender_name, addr_spec=sender.from_email)
    msg["To"] = Address(display_name=clean_display_name(mail.to_name), addr_spec=mail.to_email)
    if sender.reply_to:
        msg["Reply-To"] = Address(display_name=sender_name, addr_spec=sender.reply_to)
    msg["Date"] = date_header(now or datetime.now(UTC), sender.timezone)
    msg["Message-ID"] = message_id_header(mail.message_id, sender.from_email)
    # RFC 3834: tells auto-responders (vacation replies) not to answer a machine-sent notice.
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in list_unsubscribe_headers(mail, sender.unsubscribe_mailto).items():
        # Raw and pre-folded between the targets: URLs must never be encoded or broken (RFC 2369).
        msg.set_raw(name, value.replace(", <", ",\n <"))

    def cte(body: str) -> str:
        return "8bit" if readable and not _needs_base64(body) else "base64"

    text = mail.text if mail.text.endswith("\n") else mail.text + "\n"
    msg.set_content(text, subtype="plain", charset="utf-8", cte=cte(text))
    if mail.html:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8", cte=cte(mail.html))
    for attachment in mail.attachments:  # the message becomes multipart/mixed around the bodies
        maintype, _, subtype = attachment.mime_type.partition("/")
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                           filename=attachment.filename)
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=MAIL_POLICY)
