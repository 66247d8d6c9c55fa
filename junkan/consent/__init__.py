"""Consent lifecycle: expiry, the current state of a purpose, who is due a renewal request, the
suppression list (docs/privacy.md).

A leaf above the top-level modules: it imports no other package, so the outbox's send gate, ingest and
engagement can all ask it.
"""
