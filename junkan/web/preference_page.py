"""The person's own page 「今後のご案内の設定」: what they want to hear about, when, and their data.

Reached from the link every mail carries (`/p/<token>`, junkan/links.py). The route (junkan/web/app.py)
checks the link, the origin and the rate; this module reads the form and draws the pages, in the frame
and CSP of pages.py (no script, nothing external). Choices are stored by junkan.consent.preferences;
docs/privacy.md "The preference page" says what each one does.

The words are in junkan/web/preference_text.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection

from junkan.config import PartnerSettings, SenderSettings
from junkan.consent.preferences import (
    TIMINGS,
    ConsentChoices,
    Preferences,
    StoredPreferences,
    latest_preferences,
)
from junkan.consent.state import latest_by_candidate
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.pool.features import location_keys
from junkan.pool.months import local_day
from junkan.pool.vocabulary.thesaurus import Family, Vocabulary
from junkan.web.pages import page_environment, page_locale
from junkan.web.preference_text import GROUPS, TEXT

#: What a person may type (the browser enforces the same `maxlength`; a longer field is refused).
MAX_OTHER_INTEREST = 500
MAX_OTHER_PLACES = 200
MAX_SKILLS_TEXT = 1000
#: At most this many places of the employer's jobs are offered as boxes to tick.
MAX_PLACE_CHOICES = 12
#: The whole form, URL-encoded (a Japanese character takes 9 bytes): well above the fields' limits.
MAX_BODY = 48 * 1024
ACTIONS = ("save", "copy", "erase", "erase_confirm")

_SPLIT = re.compile(r"[、,，;；/／・\n]")

_STYLE = """
@media (max-width: 40rem) { main { margin: 0; border-radius: 0; padding: 1.25rem; } }
fieldset { border: 1px solid #d0d7de; border-radius: 6px; margin: 0 0 1.25rem; padding: .75rem 1rem 1rem; }
fieldset fieldset { border: 0; padding: 0; margin: .75rem 0 0; }
legend { font-weight: bold; padding: 0 .25rem; }
fieldset fieldset legend { color: #1f2328; padding: 0; font-weight: 600; }
.choices { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr));
           gap: 0 .75rem; }
/* Each choice is a touch target of at least 2.5rem: the whole label is clickable. */
.choices label, .stack label { display: flex; align-items: flex-start; gap: .5rem; min-height: 2.5rem;
                               padding: .2rem 0; box-sizing: border-box; line-height: 1.45; }
.choices input, .stack input { width: 1.25rem; height: 1.25rem; margin: .05rem 0 0; flex: none; }
label.field { display: block; margin: .9rem 0 .3rem; }
textarea, input[type=text] { box-sizing: border-box; width: 100%; font: inherit; padding: .5rem;
                             border: 1px solid #6e7781; border-radius: 6px; }
.hint { margin: 0 0 .5rem; color: #57606a; font-size: .9rem; }
.status { margin: 0 0 .5rem; }
.error { border: 2px solid #cf222e; padding: .5rem .75rem; border-radius: 6px; }
button.danger { background: #b42318; }
:focus-visible { outline: 3px solid #0b4fbf; outline-offset: 2px; }
dl.summary dt { font-weight: bold; margin-top: .5rem; }
dl.summary dd { margin: 0; }
"""

#: The frame of pages.py with this page's styles.
_FRAME = """{% extends "base.html" %}
{% block style %}""" + _STYLE + """{% endblock %}
"""

_FORM = """{% extends "preferences_frame.html" %}
{% from "forms.html" import post_button %}
{% macro radio(name, value, label, current) -%}
<label><input type="radio" name="{{ name }}" value="{{ value }}"{% if current == value %} checked{% endif %}>
<span>{{ label }}</span></label>
{%- endmacro %}
{% block content %}
<h1>{{ t.title }}</h1>
<p>{{ t.intro }}</p>
{% if last_saved %}<p class="hint">{{ last_saved }}</p>{% endif %}
<form method="post">
<input type="hidden" name="action" value="save">
<fieldset>
<legend>{{ t.families }}</legend>
<p class="hint">{{ t.families_hint }}</p>
{% for group in groups %}
<fieldset>
<legend>{{ group.label }}</legend>
<div class="choices">
{% for f in group.families %}
<label><input type="checkbox" name="family" value="{{ f.id }}"{% if f.checked %} checked{% endif %}>
<span>{{ f.title }}</span></label>
{% endfor %}
</div>
</fieldset>
{% endfor %}
<label class="field" for="other_interest">{{ t.other_interest }}</label>
<textarea id="other_interest" name="other_interest" rows="3" maxlength="{{ limits.other_interest }}">
{{- form.other_interest }}</textarea>
</fieldset>
<fieldset>
<legend>{{ t.places }}</legend>
{% if places %}
<p class="hint">{{ t.places_hint }}</p>
<div class="choices">
{% for p in places %}
<label><input type="checkbox" name="place" value="{{ p.name }}"{% if p.checked %} checked{% endif %}>
<span>{{ p.name }}</span></label>
{% endfor %}
</div>
{% endif %}
<label class="field" for="other_places">{{ t.other_places }}</label>
<input type="text" id="other_places" name="other_places" maxlength="{{ limits.other_places }}"
 value="{{ form.other_places }}" autocomplete="off">
<fieldset class="stack">
<legend>{{ t.remote }}</legend>
{{ radio("remote", "yes", t.remote_yes, form.remote) }}
{{ radio("remote", "no", t.remote_no, form.remote) }}
{{ radio("remote", "any", t.remote_any, form.remote) }}
</fieldset>
</fieldset>
<fieldset class="stack">
<legend>{{ t.timing }}</legend>
{% for months in timings %}
{{ radio("timing", months|string, t["timing_" ~ months], form.timing) }}
{% endfor %}
{{ radio("timing", "never", t.timing_never, form.timing) }}
</fieldset>
{% if partner_offered %}
<fieldset class="stack">
<legend>{{ t.partner }}</legend>
<p class="hint">{{ t.partner_text }}</p>
{{ radio("partner", "yes", t.partner_yes, form.partner) }}
{{ radio("partner", "no", t.partner_no, form.partner) }}
</fieldset>
{% endif %}
<fieldset class="stack">
<legend>{{ t.pool }}</legend>
<p class="hint">{{ t.pool_text }}</p>
<p class="status">{{ pool_status }}</p>
{{ radio("pool", "stay", t.pool_stay, form.pool) }}
{{ radio("pool", "leave", t.pool_leave, form.pool) }}
<label><input type="checkbox" name="renew" value="yes"><span>{{ t.pool_renew }}</span></label>
</fieldset>
<fieldset>
<legend>{{ t.skills }}</legend>
<label class="field" for="skills_text">{{ t.skills_label }}</label>
<textarea id="skills_text" name="skills_text" rows="3" maxlength="{{ limits.skills_text }}">
{{- form.skills_text }}</textarea>
</fieldset>
<button type="submit">{{ t.save }}</button>
</form>
<h2>{{ t.data_title }}</h2>
<p>{{ t.copy_text }}</p>
{{ post_button("action", "copy", t.copy_button, "secondary") }}
<p>{{ t.erase_text }}</p>
{{ post_button("action", "erase", t.erase_button, "danger") }}
{% endblock %}
"""

_SAVED = """{% extends "preferences_frame.html" %}
{% block content %}
<h1>{{ t.saved_title }}</h1>
<p>{{ t.saved_text }}</p>
<dl class="summary">
<dt>{{ t.saved_families }}</dt><dd>{{ families }}</dd>
<dt>{{ t.saved_timing }}</dt><dd>{{ timing }}</dd>
<dt>{{ t.saved_pool }}</dt><dd>{{ pool }}</dd>
</dl>
<p><a href="{{ back }}">{{ t.change }}</a></p>
{% endblock %}
"""

_MESSAGE = """{% extends "preferences_frame.html" %}
{% block content %}
<h1>{{ heading }}</h1>
<p>{{ text }}</p>
{% if back %}<p><a href="{{ back }}">{{ t.change }}</a></p>{% endif %}
{% endblock %}
"""

_CONFIRM = """{% extends "preferences_frame.html" %}
{% from "forms.html" import post_button %}
{% block content %}
<h1>{{ t.confirm_title }}</h1>
<p>{{ t.confirm_text }}</p>
{{ post_button("action", "erase_confirm", t.confirm_button, "danger") }}
<p><a href="{{ back }}">{{ t.back }}</a></p>
{% endblock %}
"""

#: Answers given before the link is read, so they cannot depend on whose link it is: both languages.
_REFUSED = """{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
<p lang="ja">{{ ja }}</p>
<p lang="en">{{ en }}</p>
{% endblock %}
"""

_env = page_environment({"preferences_frame.html": _FRAME, "preferences.html": _FORM,
                         "preferences_saved.html": _SAVED, "preferences_message.html": _MESSAGE,
                         "preferences_erase.html": _CONFIRM, "preferences_refused.html": _REFUSED})


@dataclass(frozen=True, slots=True)
class PageState:
    """What the form shows: the newest save, the current consents, the places offered."""

    saved: StoredPreferences | None
    #: Current `partner_info` and `talent_pool` answers (None = no record counts), the pool's expiry.
    partner_info: bool | None
    talent_pool: bool | None
    pool_until: datetime | None
    places: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FormInput:
    action: str
    preferences: Preferences
    consents: ConsentChoices


class _Keep(dict[str, str]):
    """Fills the placeholders it has and keeps the others (`{until}`, `{date}`) for later."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class FormRefused(ValueError):
    """A form no page of ours sends (an unknown choice, a field over its length); nothing is recorded."""


def page_state(conn: Connection, candidate_id: int, at: datetime, places: tuple[str, ...]) -> PageState:
    """What the form shows a person at `at`: their newest save and their current consents."""
    saved = latest_preferences(conn, [candidate_id]).get(candidate_id)
    partner = latest_by_candidate(conn, "partner_info", at, [candidate_id]).get(candidate_id)
    pool = latest_by_candidate(conn, "talent_pool", at, [candidate_id]).get(candidate_id)
    return PageState(saved=saved, partner_info=None if partner is None else partner.granted,
                     talent_pool=None if pool is None else pool.granted,
                     pool_until=pool.expires_at if pool is not None and pool.granted else None,
                     places=places)


# -- reading -----------------------------------------------------------------------------------------------

def place_choices(job_locations: Iterable[tuple[str | None, int]]) -> tuple[str, ...]:
    """The places of the employer's jobs (prefectures where a location names one), most jobs first, from
    (location, number of jobs there): each distinct location is read once."""
    counts: Counter[str] = Counter()
    for location, jobs in job_locations:
        places, _ = location_keys(location)
        counts.update({p: jobs for p in places if p})
    return tuple(p for p, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PLACE_CHOICES])


def map_skills(text: str, vocab: Vocabulary) -> tuple[str, ...]:
    """Canonical skills named in `text`: each part between separators, else each word of it."""
    found: dict[str, None] = {}
    for part in _SPLIT.split(unicodedata.normalize("NFKC", text)):
        part = part.strip()
        if not part:
            continue
        whole = vocab.canonical_skill(part)
        hits = [whole] if whole else [vocab.canonical_skill(word) for word in part.split()]
        found.update((h, None) for h in hits if h)
    return tuple(found)


def _split_places(text: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(unicodedata.normalize("NFKC", text)) if p.strip()]


def _one(fields: Mapping[str, list[str]], name: str, allowed: Sequence[str]) -> str | None:
    values = fields.get(name, [])
    if len(values) > 1 or (values and values[0] not in allowed):
        raise FormRefused(f"field {name} holds an unknown choice")
    return values[0] if values else None


def _text(fields: Mapping[str, list[str]], name: str, limit: int) -> str:
    values = fields.get(name, [])
    if len(values) > 1:
        raise FormRefused(f"field {name} given twice")
    value = values[0].replace("\r\n", "\n") if values else ""
    if len(value) > limit:
        raise FormRefused(f"field {name} over {limit} characters")
    # A browser sends no control character but line breaks and tabs; PostgreSQL stores no NUL at all.
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise FormRefused(f"field {name} holds a control character")
    return value


def read_form(body: bytes, families: Mapping[str, Family], places: Sequence[str],
              vocab: Vocabulary) -> FormInput:
    """The form as Preferences and consent answers; FormRefused for anything the page cannot send."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=len(families) + len(places) + 20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormRefused("form unreadable") from exc
    action = _one(fields, "action", ACTIONS) or "save"
    chosen = fields.get("family", [])
    if any(f not in families for f in chosen):
        raise FormRefused("unknown occupation family")
    ticked = fields.get("place", [])
    if any(p not in places for p in ticked):
        raise FormRefused("unknown place")
    other_places = _text(fields, "other_places", MAX_OTHER_PLACES)
    timing = _one(fields, "timing", (*(str(m) for m in TIMINGS), "never"))
    remote = _one(fields, "remote", ("yes", "no", "any"))
    partner = _one(fields, "partner", ("yes", "no"))
    pool = _one(fields, "pool", ("stay", "leave"))
    renew = _one(fields, "renew", ("yes",)) == "yes"
    skills_text = _text(fields, "skills_text", MAX_SKILLS_TEXT)
    preferences = Preferences(
        families=tuple(dict.fromkeys(chosen)),
        other_interest=_text(fields, "other_interest", MAX_OTHER_INTEREST),
        locations=tuple(dict.fromkeys([*ticked, *_split_places(other_places)])),
        remote=None if remote in (None, "any") else remote == "yes",
        timing_months=int(timing) if timing not in (None, "never") else None,
        never=timing == "never",
        skills_text=skills_text,
        skills=map_skills(skills_text, vocab),
    )
    consents = ConsentChoices(partner_info=None if partner is None else partner == "yes",
                              talent_pool=None if pool is None else pool == "stay",
                              renew_pool=renew and pool == "stay")
    return FormInput(action=action, preferences=preferences, consents=consents)


# -- drawing -----------------------------------------------------------------------------------------------

def _texts(lang: str, sender: SenderSettings, partner: PartnerSettings | None = None,
           **values: str) -> dict[str, str]:
    company = sender.company_name_en if lang == "en" and sender.company_name_en else sender.company_name
    name = partner.display_name if partner else ""
    known = _Keep(company=company, partner=name, **values)
    return {k: v.format_map(known) for k, v in TEXT[lang].items()}


def show_date(at: datetime | None, lang: str, zone: str) -> str:
    if at is None:
        return ""
    day = local_day(at, zone)
    return f"{day.year}年{day.month}月{day.day}日" if lang == "ja" else f"{day.day} {day:%B} {day.year}"


def _groups(families: Mapping[str, Family], lang: str, checked: set[str]) -> list[dict[str, Any]]:
    by_group: dict[int, list[dict[str, Any]]] = {}
    other = len(GROUPS) - 1
    for family in families.values():
        group = next((i for i, (_, _, codes) in enumerate(GROUPS) if family.code in codes), other)
        title = family.en if lang == "en" and family.en else family.ja
        by_group.setdefault(group, []).append({"id": family.id, "title": title,
                                               "checked": family.id in checked})
    return [{"label": GROUPS[i][1 if lang == "en" else 0], "families": by_group[i]}
            for i in sorted(by_group)]


def _timing_value(p: Preferences) -> str | None:
    """The form's radio value: the report's bucket, with no choice ("none") ticking nothing."""
    key = p.timing_key
    return None if key == "none" else key


def preference_form(locale: str, sender: SenderSettings, partner: PartnerSettings | None, state: PageState,
                    *, families: Mapping[str, Family], zone: str, pool_days: int,
                    renewed_until: datetime) -> str:
    """The form; without a `partner` (the partner section is off) it does not ask about one."""
    lang = page_locale(locale)
    t = _texts(lang, sender, partner, days=str(pool_days), renewed=show_date(renewed_until, lang, zone))
    p = state.saved.preferences if state.saved else Preferences()
    offered = set(state.places)
    if state.talent_pool:
        status = (t["pool_until"].replace("{until}", show_date(state.pool_until, lang, zone))
                  if state.pool_until else t["pool_forever"])
    else:
        status = t["pool_none"]
    form = {
        "other_interest": p.other_interest,
        "other_places": "、".join(x for x in p.locations if x not in offered),
        "remote": None if state.saved is None else {None: "any", True: "yes", False: "no"}[p.remote],
        "timing": _timing_value(p),
        "partner": None if state.partner_info is None else ("yes" if state.partner_info else "no"),
        "pool": None if state.talent_pool is None else ("stay" if state.talent_pool else "leave"),
        "skills_text": p.skills_text,
    }
    last = (t["last_saved"].replace("{date}", show_date(state.saved.recorded_at, lang, zone))
            if state.saved else "")
    return _env.get_template("preferences.html").render(
        lang=lang, title=t["title"], t=t, sender=sender, version=PREFERENCE_WORDING_VERSION,
        groups=_groups(families, lang, set(p.families)), form=form, last_saved=last,
        places=[{"name": x, "checked": x in p.locations} for x in state.places], timings=TIMINGS,
        partner_offered=partner is not None,
        pool_status=status,
        limits={"other_interest": MAX_OTHER_INTEREST, "other_places": MAX_OTHER_PLACES,
                "skills_text": MAX_SKILLS_TEXT})


def preference_saved(locale: str, sender: SenderSettings, preferences: Preferences, *,
                     families: Mapping[str, Family], in_pool: bool, pool_until: datetime | None, zone: str,
                     back: str) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    sep = "、" if lang == "ja" else ", "
    names = [(f.en if lang == "en" and f.en else f.ja) if (f := families.get(fid)) else fid
             for fid in preferences.families]
    timing = _timing_value(preferences)
    if in_pool:
        pool = (t["saved_in_pool"].replace("{until}", show_date(pool_until, lang, zone)) if pool_until
                else t["saved_in_pool_forever"])
    else:
        pool = t["saved_not_in_pool"]
    return _env.get_template("preferences_saved.html").render(
        lang=lang, title=t["saved_title"], t=t, sender=sender, back=back,
        families=sep.join(names) or t["saved_none"],
        timing=t[f"timing_{timing}"] if timing else t["saved_none"], pool=pool)


def copy_requested(locale: str, sender: SenderSettings, *, new: bool, back: str) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    return _env.get_template("preferences_message.html").render(
        lang=lang, title=t["copy_title"], t=t, sender=sender, heading=t["copy_title"],
        text=t["copy_done"] if new else t["copy_again"], back=back)


def erase_confirm(locale: str, sender: SenderSettings, *, back: str) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    return _env.get_template("preferences_erase.html").render(lang=lang, title=t["confirm_title"], t=t,
                                                             sender=sender, back=back)


def erased(locale: str, sender: SenderSettings) -> str:
    lang = page_locale(locale)
    t = _texts(lang, sender)
    return _env.get_template("preferences_message.html").render(
        lang=lang, title=t["erased_title"], t=t, sender=sender, heading=t["erased_title"],
        text=t["erased_text"], back=None)


_REFUSALS = {
    "origin": ("送信できませんでした / Not sent",
               "このページのフォームからのみ送信できます。メールのリンクからページを開き直してください。",
               "This form can only be sent from its own page. Please open the page again from the link "
               "in your e-mail."),
    "rate": ("しばらくしてからお試しください / Please try again later",
             "短い時間に多くの送信がありました。しばらくしてから、もう一度お試しください。",
             "We received many submissions in a short time. Please try again in a little while."),
    "form": ("送信内容を読み取れませんでした / The form could not be read",
             "お手数ですが、メールのリンクからページを開き直して、もう一度お試しください。",
             "Please open the page again from the link in your e-mail and try once more."),
}


def refused(reason: str) -> str:
    """The page for a POST refused before (or regardless of) whose link it is: both languages."""
    title, ja, en = _REFUSALS[reason]
    return _env.get_template("preferences_refused.html").render(lang="ja", title=title, ja=ja, en=en,
                                                               t={}, sender=None)
