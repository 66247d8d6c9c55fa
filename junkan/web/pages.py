"""The few HTML pages a candidate may see: unsubscribe confirmation, its result, and a neutral error page.

Kept in code (not template files) so they ship with the package and cannot go missing in a deployment.
Autoescaping is on: company names and addresses come from configuration but are still treated as text.
"""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

from junkan.config import SenderSettings

_BASE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", sans-serif; margin: 0;
       background: #f6f7f9; color: #1f2328; }
main { max-width: 34rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 3px rgba(0,0,0,.12); line-height: 1.7; }
h1 { font-size: 1.3rem; margin-top: 0; }
button { font-size: 1rem; padding: .7rem 1.4rem; border: 0; border-radius: 6px; background: #1f6feb;
         color: #fff; cursor: pointer; }
footer { margin-top: 2rem; font-size: .85rem; color: #57606a; }
</style>
</head>
<body><main>
{% block content %}{% endblock %}
{% if sender %}
<footer>
<div>{{ sender.company_name }}</div>
<div>{{ sender.postal_address }}</div>
<div>{{ t.contact }}: {{ sender.contact_email }}</div>
</footer>
{% endif %}
</main></body>
</html>
"""

_CONFIRM = """{% extends "base.html" %}
{% block content %}
<h1>{{ t.confirm_title }}</h1>
<p>{{ t.confirm_text }}</p>
<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{{ t.button }}</button>
</form>
{% endblock %}
"""

_DONE = """{% extends "base.html" %}
{% block content %}
<h1>{{ t.done_title }}</h1>
<p>{{ t.done_text }}</p>
{% endblock %}
"""

_INVALID = """{% extends "base.html" %}
{% block content %}
<h1>リンクが無効です / This link is not valid</h1>
<p lang="ja">このリンクは無効か、有効期限が切れています。</p>
<p lang="en">This link is invalid or has expired.</p>
{% endblock %}
"""

_TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "confirm_title": "配信停止の確認",
        "confirm_text": "{company}からこのメールアドレスへのメール（提携サービスや求人のご案内を含みます）"
                        "の配信を停止します。よろしければ、下のボタンを押してください。",
        "button": "配信を停止する",
        "done_title": "配信を停止しました",
        "done_text": "今後、{company}からこのメールアドレスへご案内をお送りすることはありません。"
                     "お手続きは以上です。このページは閉じていただいて構いません。",
        "contact": "お問い合わせ",
    },
    "en": {
        "confirm_title": "Confirm unsubscribe",
        "confirm_text": "Stop e-mails from {company} to this address, including partner-service and job "
                        "announcements. Press the button below to confirm.",
        "button": "Unsubscribe",
        "done_title": "You have been unsubscribed",
        "done_text": "{company} will not send further announcements to this address. Nothing else is needed; "
                     "you may close this page.",
        "contact": "Contact",
    },
}

_env = Environment(
    loader=DictLoader({"base.html": _BASE, "confirm.html": _CONFIRM, "done.html": _DONE,
                       "invalid.html": _INVALID}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)

#: Content-Security-Policy for every page: no scripts, no external resources, forms only back to us.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")


def page_locale(locale: str | None) -> str:
    return "en" if (locale or "").lower().startswith("en") else "ja"


def _texts(locale: str, sender: SenderSettings) -> dict[str, str]:
    return {k: v.format(company=sender.company_name) for k, v in _TEXT[locale].items()}


def unsubscribe_confirm(locale: str, sender: SenderSettings) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    return _env.get_template("confirm.html").render(lang=lang, title=t["confirm_title"], t=t, sender=sender)


def unsubscribe_done(locale: str, sender: SenderSettings) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    return _env.get_template("done.html").render(lang=lang, title=t["done_title"], t=t, sender=sender)


def invalid_link() -> str:
    """Deliberately the same page for forged, tampered, expired and unknown links: it reveals nothing."""
    return _env.get_template("invalid.html").render(lang="ja", title="リンクが無効です / Invalid link",
                                                     t={}, sender=None)
