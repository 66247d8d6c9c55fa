"""Consent as the API sources record it: Greenhouse candidate custom fields, Lever opportunity tags.

The spreadsheet columns are in csv_source.HEADER_MAP (タレントプール同意 …); docs/privacy.md lists all three.
- Greenhouse: a candidate custom field per purpose (key or name, case-folded): `talent_pool_consent` /
  タレントプール同意, `partner_info_consent` / パートナー案内同意, `recontact_consent` / 再連絡同意, holding
  a yes/no answer (a boolean field, はい/いいえ, yes/no, 1/0 …). `can_email: false` (the candidate opted out
  of e-mail in Greenhouse) withdraws `partner_info` and `recontact`, whatever the fields say.
- Lever: opportunity tags `consent:<purpose>` (granted) and `consent-withdrawn:<purpose>` (withdrawn),
  e.g. `consent:talent_pool`; these tags are not kept as candidate tags.
Anything else says nothing about consent: the person keeps what was recorded before.
"""

from __future__ import annotations

from typing import Any

from junkan.ats.sheet_cells import parse_consent

#: Greenhouse candidate custom fields (key or name, after case-folding) -> purpose.
GREENHOUSE_FIELDS: dict[str, tuple[str, ...]] = {
    "talent_pool": ("talent_pool_consent", "タレントプール同意"),
    "partner_info": ("partner_info_consent", "パートナー案内同意"),
    "recontact": ("recontact_consent", "再連絡同意"),
}
#: The Greenhouse custom field holding the version of the consent wording the candidate saw.
GREENHOUSE_WORDING_FIELDS = ("consent_wording_version", "同意文言バージョン")
#: `can_email: false` withdraws the purposes that are advertising mail under 特定電子メール法.
CAN_EMAIL_PURPOSES = ("partner_info", "recontact")
LEVER_GRANTED = "consent:"
LEVER_WITHDRAWN = "consent-withdrawn:"
PURPOSES = tuple(GREENHOUSE_FIELDS)


def greenhouse_consents(candidate: dict[str, Any],
                        custom_value: Any) -> dict[str, bool]:
    """Consents of a Greenhouse candidate; `custom_value(candidate, names)` reads one custom field.

    Raises ValueError naming the field when an answer cannot be read (the record is quarantined).
    """
    consents: dict[str, bool] = {}
    for purpose, names in GREENHOUSE_FIELDS.items():
        try:
            answer = parse_consent(custom_value(candidate, names))
        except ValueError:
            raise ValueError(f"candidate custom field {names[0]}: cannot read the consent answer") from None
        if answer is not None:
            consents[purpose] = answer
    if candidate.get("can_email") is False:
        consents.update(dict.fromkeys(CAN_EMAIL_PURPOSES, False))
    return consents


def lever_consents(tags: tuple[str, ...]) -> tuple[dict[str, bool], tuple[str, ...]]:
    """(consents, the other tags) from a Lever opportunity's tags; a withdrawal wins over a grant."""
    consents: dict[str, bool] = {}
    rest: list[str] = []
    for tag in tags:
        folded = tag.casefold().replace(" ", "")
        for prefix, granted in ((LEVER_WITHDRAWN, False), (LEVER_GRANTED, True)):
            purpose = folded.removeprefix(prefix)
            if folded.startswith(prefix) and purpose in PURPOSES:
                consents[purpose] = granted if consents.get(purpose, True) else False
                break
        else:
            rest.append(tag)
    return consents, tuple(rest)
