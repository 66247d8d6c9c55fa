"""Relay-partner integration: adapters (HTTP JSON, CSV report), attribution and the credit ledger.

`sync.sync_partner` is the entry point a task calls; `ledger` holds the contract rules and the
append-only ledger operations; `factory.make_source` builds the adapter a partner's settings name;
`report.render_markdown` writes the flow's artifact from the ledger's summaries.
"""
