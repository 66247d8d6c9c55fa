"""The preview as the terminal shows it: per section a total, a table and the sample mail."""

from __future__ import annotations

from junkan.config import Settings
from junkan.preview.model import Preview, SectionPreview


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
