"""Consent lifecycle: expiry, the current state of a purpose, renewal mails, opt-outs (docs/privacy.md)."""
