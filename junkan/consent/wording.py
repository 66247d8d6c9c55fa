"""Versions of the wording a person saw when they gave or withdrew consent, stored on each record.

Change a version whenever the text it names changes (docs/privacy.md "Wording versions"), so a consent
record can always be matched to the words behind it.
"""

from __future__ import annotations

#: The opt-out wording: every mail footer's "what this link stops" and the unsubscribe page's two choices
#: (junkan/templates/mail/*/_layout.*, junkan/web/pages.py).
OPTOUT_WORDING_VERSION = "optout-2026-12"
#: The renewal mail and the renewal page (junkan/templates/mail/*/consent_renewal.*,
#: junkan/web/renewal_page.py).
RENEWAL_WORDING_VERSION = "renewal-2026-12"
#: The preference page 「今後のご案内の設定」 (junkan/web/preference_page.py): every choice it records,
#: and the consents its save gives or withdraws, carry this version.
PREFERENCE_WORDING_VERSION = "preferences-2026-12"
