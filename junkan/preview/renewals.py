"""Preview of consent renewals: there is no `consent_renewal` mail yet, so the section says so and
counts 0. When it lands, this function counts the talent-pool consents it would remind."""

from __future__ import annotations

from junkan.preview.model import PreviewDay, SectionPreview


def renewals_section(day: PreviewDay) -> SectionPreview:
    return SectionPreview(name="renewals", title="Consent renewals", total=0,
                          notes=["renewals: off (no consent renewal mail is sent yet)"])
