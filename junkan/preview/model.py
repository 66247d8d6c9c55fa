"""What a preview holds, and how the terminal shows it: counts and labels per section, plus one sample mail
rendered for a placeholder person.

The placeholder is a fictitious candidate, so that no real name or address reaches a terminal, a log or a
screenshot of the preview. The text shows per section a total, a table and the sample mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.mail.templates import normalize_locale
from junkan.outbox.render import NoticeRow


@dataclass(frozen=True, slots=True)
class PreviewDay:
    """The day looked at and the moment a run late that day judges by (the end of its sending window)."""

    session: Session
    settings: Settings
    day: date
    now: datetime
    business_day: bool


@dataclass(frozen=True, slots=True)
class Group:
    """A row of a section's table: e.g. template "ja/rejection", locale "ja", 12 mails, 3 with partner."""

    template: str
    locale: str
    count: int
    #: How many carry the partner block; None where a mail never has one (re-contact).
    partner: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One mail rendered through the real templates for a placeholder person (never a real one)."""

    template: str
    person: str
    subject: str
    text: str


@dataclass
class SectionPreview:
    name: str
    title: str
    #: Mails that would go out (or, for shortlists, lists that would be written).
    total: int = 0
    groups: list[Group] = field(default_factory=list)
    #: Further figures, e.g. {"suppressed": 2, "new_openings": 4}.
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sample: Sample | None = None


@dataclass
class Preview:
    day: date
    business_day: bool
    sections: list[SectionPreview]
    #: Why the live send that day would be refused (junkan.mail.identity_guard), one line per setting.
    refused: list[str] = field(default_factory=list)


#: Reserved for documentation (RFC 2606): never a mailbox.
PLACEHOLDER_EMAIL = "sample.candidate@example.invalid"
PLACEHOLDER_ID = "preview-sample"
_NAMES = {"ja": "見本 太郎", "en": "Sample Applicant"}


def placeholder_name(locale: str | None) -> str:
    return _NAMES.get(normalize_locale(locale), _NAMES["en"])


def placeholder_row(kind: str, locale: str) -> NoticeRow:
    """A pending mail of `kind` to the placeholder person, for a renderer to prepare as a sample."""
    return NoticeRow(
        message_id=None, public_id=PLACEHOLDER_ID, kind=kind, locale=locale, advertising=True, ref_code=None,
        partner_name=None, email=PLACEHOLDER_EMAIL, name=placeholder_name(locale), anonymized=False,
        application_status=None, job_title=None, job_external_id=None, reason_category=None, suppressed=False,
        partner_consent=False,
    )


def _table(section: SectionPreview) -> list[str]:
    if not section.groups:
        return []
    width = max(len("template"), *(len(g.template) for g in section.groups))
    lines = [f"  {'template':<{width}}  locale  mails  partner block"]
    for g in section.groups:
        partner = "-" if g.partner is None else str(g.partner)
        lines.append(f"  {g.template:<{width}}  {g.locale:<6}  {g.count:>5}  {partner:>13}")
    return lines


def _section(section: SectionPreview) -> list[str]:
    lines = [f"{section.title}: {section.total}"]
    lines += _table(section)
    if section.counts:
        lines.append("  " + ", ".join(f"{name} {n}" for name, n in section.counts.items()))
    lines += [f"  {note}" for note in section.notes]
    if section.sample is not None:
        s = section.sample
        lines += ["", f"  sample ({s.template}), rendered for the placeholder candidate {s.person}, "
                      "not a real person:", f"  | Subject: {s.subject}"]
        lines += [f"  | {line}".rstrip() for line in s.text.rstrip("\n").split("\n")]
    return lines


def render_text(preview: Preview, settings: Settings) -> str:
    notice = settings.notice
    kind = "business day" if preview.business_day else "no business day"
    window = f"{notice.window_start:%H:%M}–{notice.window_end:%H:%M} {settings.business.timezone}"
    lines = [f"Preview of {preview.day:%a %Y-%m-%d} ({kind}; sending window {window}). Nothing was changed.",
             ""]
    if preview.refused:
        lines += [f"The live send through {settings.mail.backend} would be refused:",
                  *(f"  {line}" for line in preview.refused), ""]
    for section in preview.sections:
        lines += [*_section(section), ""]
    return "\n".join(lines).rstrip() + "\n"
