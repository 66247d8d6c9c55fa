"""The few HTML pages a candidate may see: unsubscribe choices, their result, and a neutral error page.

The unsubscribe page offers two choices (docs/privacy.md "Opt-out"): the first is what the mail footer and
the one-click List-Unsubscribe header do (advertising only); the second stops all mail from the employer.
Its wording is OPTOUT_WORDING_VERSION (junkan/consent/wording.py), stored with the consent records.

Kept in code (not template files) so they ship with the package and cannot go missing in a deployment.
Autoescaping is on: company names and addresses come from configuration but are still treated as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment, select_autoescape

from junkan.config import SenderSettings
from junkan.consent.wording import OPTOUT_WORDING_VERSION

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
h2 { font-size: 1.05rem; margin-top: 2rem; }
button.secondary { background: #57606a; }
.version { font-size: .8rem; color: #57606a; }
footer { margin-top: 2rem; font-size: .85rem; color: #57606a; }
{% block style %}{% endblock %}
</style>
</head>
<body><main>
{% block content %}{% endblock %}
{% if version %}
<p class="version">{{ t.version }}: {{ version }}</p>
{% endif %}
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

#: One button that POSTs a choice back to the page's own URL: GET never changes anything.
_FORMS = """{% macro post_button(name, value, label, class="") -%}
<form method="post">
<input type="hidden" name="{{ name }}" value="{{ value }}">
<button type="submit"{% if class %} class="{{ class }}"{% endif %}>{{ label }}</button>
</form>
{%- endmacro %}
"""

#: The second choice, stopping all mail: offered on the confirmation and again after advertising only.
_ALL_MAIL = """{% from "forms.html" import post_button %}
<p>{{ t.all_text }}</p>
{{ post_button("choice", "all_mail", t.all_button, "secondary") }}
"""

#: A page asking for one thing: its `title` as heading, a `text`, and a button posting `field=value`.
_ASK = """{% extends "base.html" %}
{% from "forms.html" import post_button %}
{% block content %}
<h1>{{ title }}</h1>
<p>{{ text }}</p>
{{ post_button(field, value, t.button) }}
{% block more %}{% endblock %}
{% endblock %}
"""

_CONFIRM = """{% extends "ask.html" %}
{% block more %}
<h2>{{ t.all_title }}</h2>
{% include "all_mail.html" %}
{% endblock %}
"""

#: Also the renewal page's: without `offer_all` it is just the title and the text.
_DONE = """{% extends "base.html" %}
{% block content %}
<h1>{{ t.done_title }}</h1>
<p>{{ t.done_text }}</p>
{% if offer_all %}
{% include "all_mail.html" %}
{% endif %}
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
        "confirm_text": "{company}から、提携サービスのご案内・求人のご案内・タレントプール登録の更新のご案内"
                        "をお送りしないようにします。選考に関するご連絡は、これまでどおりお送りします。"
                        "よろしければ、下のボタンを押してください。",
        "button": "ご案内の配信を停止する",
        "all_title": "すべてのメールを停止する",
        "all_text": "選考に関するご連絡を含め、{company}からこのメールアドレスへの"
                    "メールをすべて停止することもできます。",
        "all_button": "すべてのメールを停止する",
        "version": "文言バージョン",
        "done_title": "ご案内の配信を停止しました",
        "done_text": "今後、{company}から提携サービス・求人・タレントプール登録の更新のご案内を"
                     "お送りすることはありません。選考に関するご連絡は引き続きお送りします。",
        "done_all_title": "すべてのメールを停止しました",
        "done_all_text": "今後、{company}からこのメールアドレスへメールをお送りすることはありません。"
                         "お手続きは以上です。このページは閉じていただいて構いません。",
        "contact": "お問い合わせ",
    },
    "en": {
        "confirm_title": "Confirm unsubscribe",
        "confirm_text": "Stop partner-service introductions, job announcements and talent-pool renewal "
                        "reminders from {company}. Messages about your applications will still be sent. "
                        "Press the button below to confirm.",
        "button": "Stop these announcements",
        "all_title": "Stop all e-mail",
        "all_text": "You can also stop every e-mail from {company} to this address, including messages "
                    "about your applications.",
        "all_button": "Stop all e-mail",
        "version": "Wording version",
        "done_title": "Announcements stopped",
        "done_text": "{company} will not send you partner-service introductions, job announcements or "
                     "talent-pool renewal reminders any more. Messages about your applications will still "
                     "be sent.",
        "done_all_title": "All e-mail stopped",
        "done_all_text": "{company} will not send any further e-mail to this address. Nothing else is "
                         "needed; you may close this page.",
        "contact": "Contact",
    },
}


_env = Environment(
    loader=DictLoader({"base.html": _BASE, "forms.html": _FORMS, "all_mail.html": _ALL_MAIL, "ask.html": _ASK,
                       "confirm.html": _CONFIRM, "done.html": _DONE, "invalid.html": _INVALID}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)

#: Content-Security-Policy for every page: no scripts, no external resources, forms only back to us.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")


def render_page(template: str, **context: Any) -> str:
    """One of the pages above: `ask.html` and `done.html` serve the renewal page too. `base.html` shows the
    wording `version` when one is given."""
    return _env.get_template(template).render(**context)


def page_environment(templates: Mapping[str, str]) -> Environment:
    """An environment whose `templates` may extend the frame above (`base.html`, `forms.html`): a page of
    its own module (junkan/web/preference_page.py) in the same frame, CSP and escaping."""
    return Environment(loader=ChoiceLoader([DictLoader(dict(templates)), _env.loader]),  # type: ignore[list-item]
                       autoescape=select_autoescape(default=True, default_for_string=True), auto_reload=False)


def page_locale(locale: str | None) -> str:
    return "en" if (locale or "").lower().startswith("en") else "ja"


def _texts(locale: str, sender: SenderSettings) -> dict[str, str]:
    return {k: v.format(company=sender.company_name) for k, v in _TEXT[locale].items()}


def unsubscribe_confirm(locale: str, sender: SenderSettings) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    # RFC 8058's one-click body: what a mail client posts without the page is the same choice.
    return render_page("confirm.html", lang=lang, title=t["confirm_title"], text=t["confirm_text"],
                       field="List-Unsubscribe", value="One-Click", t=t, sender=sender,
                       version=OPTOUT_WORDING_VERSION)


def unsubscribe_done(locale: str, sender: SenderSettings, *, all_mail: bool = False) -> str:
    """After advertising only, the page still offers stopping all mail; after all mail, it just says so."""
    lang = page_locale(locale)
    t = _texts(lang, sender)
    if all_mail:
        t = {**t, "done_title": t["done_all_title"], "done_text": t["done_all_text"]}
    return render_page("done.html", lang=lang, title=t["done_title"], t=t, sender=sender,
                       offer_all=not all_mail)


def invalid_link() -> str:
    """Deliberately the same page for forged, tampered, expired and unknown links: it reveals nothing."""
    return render_page("invalid.html", lang="ja", title="リンクが無効です / Invalid link", t={}, sender=None)
