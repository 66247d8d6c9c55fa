"""Every mail's footer says exactly what its unsubscribe link stops (the one-click, advertising scope).

Rendered through the real renderers of each kind: a rejection notice with and without the partner section,
a withdrawal notice, a re-contact mail and a consent renewal mail, in Japanese and English.
"""

from __future__ import annotations

import pytest

from junkan.config import Settings
from junkan.outbox.recontact import ListedJob, RecontactRenderer
from junkan.outbox.render import NoticeRenderer, NoticeRow
from junkan.outbox.renewal_mail import RenewalRenderer

#: What the link stops, word for word; the same in every kind (the link has one scope).
STOPS = {
    "ja": "下記のページから、提携サービスのご案内・求人のご案内・タレントプール登録の更新のご案内の配信を\n"
          "停止できます。選考に関するご連絡は停止されません。当社からのすべてのメールの停止も、同じページで\n"
          "お選びいただけます。\n",
    "en": "The page below stops partner-service introductions, job announcements and\n"
          "talent-pool renewal reminders; messages about your applications are not\n"
          "affected. The same page also lets you stop all e-mail from us.\n",
}
STOPS_HTML = {
    "ja": "から、提携サービスのご案内・求人のご案内・タレントプール登録の更新のご案内の配信を停止できます。"
          "選考に関するご連絡は停止されません。当社からのすべてのメールの停止も、同じページでお選びいただけます。",
    "en": " stops partner-service introductions, job announcements and talent-pool renewal reminders; "
          "messages about your applications are not affected. The same page also lets you stop all e-mail "
          "from us.",
}
#: Why this person receives the mail, for the kinds that are advertising in themselves.
BECAUSE = {
    ("ja", "recontact"): "このメールは、求人のご案内の受け取りにご同意いただいた方にお送りしています。",
    ("ja", "consent_renewal"): "このメールは、タレントプールへのご登録にご同意いただいた方に"
                               "お送りしています。",
    ("en", "recontact"): "You receive this because you agreed to hear about new openings.",
    ("en", "consent_renewal"): "You receive this because you agreed to join our talent pool.",
}
PUBLIC_ID = "abcdefghijklmnopqrstuv"


def _row(kind: str, locale: str, *, partner: bool = False) -> NoticeRow:
    return NoticeRow(
        message_id=None, public_id=PUBLIC_ID, kind=kind, locale=locale, advertising=partner,
        ref_code="r" * 24 if partner else None, partner_name="careerrelay" if partner else None,
        email="taro@example.jp", name="山田 太郎", anonymized=False,
        application_status={"rejection": "rejected", "withdrawal": "withdrawn"}.get(kind),
        job_title="バックエンドエンジニア", job_external_id=None, reason_category=None, suppressed=False,
        partner_consent=partner,
    )


def _render(kind: str, locale: str, partner: bool) -> tuple[str, str, bool]:
    settings = Settings()
    row = _row(kind, locale, partner=partner)
    if kind == "recontact":
        renderer: NoticeRenderer = RecontactRenderer(
            settings, previews={PUBLIC_ID: [ListedJob(1, "SRE", "東京都")]})
    elif kind == "consent_renewal":
        renderer = RenewalRenderer(settings)
    else:
        renderer = NoticeRenderer(settings)
    mail = renderer.prepare(row).mail
    return mail.text, mail.html, mail.advertising


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize(("kind", "partner"), [
    ("rejection", True), ("rejection", False), ("withdrawal", False), ("recontact", False),
    ("consent_renewal", False),
])
def test_the_footer_says_what_the_link_stops(kind: str, partner: bool, locale: str) -> None:
    text, html, advertising = _render(kind, locale, partner)
    footer = text[text.rindex("送信者：" if locale == "ja" else "Sender: "):]
    unsubscribe = "http://127.0.0.1:8000/u/"
    reason = BECAUSE.get((locale, kind))
    assert f"{STOPS[locale]}{unsubscribe}" in footer  # the sentence, then the link it describes
    assert (reason in footer) if reason else not any(r in footer for r in BECAUSE.values())
    assert STOPS_HTML[locale] in html and unsubscribe in html
    # The old wording promised less than an unsubscribe did; neither version survives.
    assert "提携サービスのご案内などの配信を希望されない場合" not in text + html
    assert "introductions like this" not in text + html
    assert advertising == (partner or kind in ("recontact", "consent_renewal"))


def test_the_renewal_mail_links_to_its_signed_renewal_page() -> None:
    text, html, _ = _render("consent_renewal", "ja", False)
    assert "▶ ご登録を更新する：http://127.0.0.1:8000/c/" in text
    assert 'href="http://127.0.0.1:8000/c/' in html
