"""The consent renewal page: what the person agrees to (with its wording version), a button, the result.

A GET only shows the page (mail scanners and link previews open links); the button POSTs back to the same
URL, and only that records the consent (junkan/consent/renewal.py). Same frame, done page and CSP as pages.py.
"""

from __future__ import annotations

from junkan.config import SenderSettings
from junkan.consent.wording import RENEWAL_WORDING_VERSION
from junkan.web.pages import page_environment, page_locale

_CONFIRM = """{% extends "base.html" %}
{% from "forms.html" import post_button %}
{% block content %}
<h1>{{ t.title }}</h1>
<p>{{ t.text }}</p>
{{ post_button("renew", "talent_pool", t.button) }}
{% endblock %}
"""

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

_env = page_environment({"confirm.html": _CONFIRM})


def _texts(lang: str, sender: SenderSettings, **values: str) -> dict[str, str]:
    return {k: v.format(company=sender.company_name, **values) for k, v in _TEXT[lang].items()}


def renewal_confirm(locale: str, sender: SenderSettings, *, days: int) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender, days=str(days), until="")
    return _env.get_template("confirm.html").render(lang=lang, title=t["title"], t=t, sender=sender,
                                                     version=RENEWAL_WORDING_VERSION)


def renewal_done(locale: str, sender: SenderSettings, *, until: str) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender, days="", until=until)
    return _env.get_template("done.html").render(lang=lang, title=t["done_title"], t=t, sender=sender)
