"""The consent renewal page: what the person agrees to (with its wording version), a button, the result.

A GET only shows the page (mail scanners and link previews open links); the button POSTs back to the same
URL, and only that records the consent (junkan/consent/renewal.py). It is drawn with pages.py's
`ask.html` and `done.html`: the same frame and CSP as the unsubscribe pages.
"""

from __future__ import annotations

from junkan.config import SenderSettings
from junkan.consent.wording import RENEWAL_WORDING_VERSION
from junkan.web.pages import page_locale, render_page

#: RENEWAL_WORDING_VERSION names this text: change the version whenever it changes.
_TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "title": "タレントプールへのご登録の更新",
        "text": "{company}のタレントプールへのご登録を更新します。更新すると、{company}は"
                "あなたの応募時の情報を{days}日間保管し、ご経験に合う新しい求人が出た際に"
                "メールでご案内することがあります。ご案内は、各メールのリンクからいつでも"
                "停止できます。更新される場合は、下のボタンを押してください。",
        "button": "ご登録を更新する",
        "version": "文言バージョン",
        "done_title": "ご登録を更新しました",
        "done_text": "タレントプールへのご登録を{until}まで更新しました。ありがとうございます。"
                     "このページは閉じていただいて構いません。",
        "contact": "お問い合わせ",
    },
    "en": {
        "title": "Renew your talent-pool registration",
        "text": "This renews your registration in {company}'s talent pool. {company} then keeps the details "
                "of your application for {days} days and may e-mail you about new openings that fit your "
                "experience. You can stop those e-mails at any time through the link in each of them. Press "
                "the button below to renew.",
        "button": "Renew",
        "version": "Wording version",
        "done_title": "Registration renewed",
        "done_text": "Your talent-pool registration now runs until {until}. Thank you; you may close this "
                     "page.",
        "contact": "Contact",
    },
}


def _texts(lang: str, sender: SenderSettings, **values: str) -> dict[str, str]:
    return {k: v.format(company=sender.company_name, **values) for k, v in _TEXT[lang].items()}


def renewal_confirm(locale: str, sender: SenderSettings, *, days: int) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender, days=str(days), until="")
    return render_page("ask.html", lang=lang, title=t["title"], text=t["text"], field="renew",
                       value="talent_pool", t=t, sender=sender, version=RENEWAL_WORDING_VERSION)


def renewal_done(locale: str, sender: SenderSettings, *, until: str) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender, days="", until=until)
    return render_page("done.html", lang=lang, title=t["done_title"], t=t, sender=sender)
