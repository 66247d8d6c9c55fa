"""Retention, anonymisation, erasure and access requests (docs/privacy.md).

The keyed e-mail hash (`junkan.keyed`) and the erasure tombstones ingest reads (`junkan.tombstone`) live
lower down, so that ingest, consent and engagement can use them without importing this package.

- `tables`: where a person's rows are, per table (the map the scrub, erasure and export share);
- `rules`: who is due for anonymisation, one bulk query per rule, per source;
- `anonymise`: the scrub of a set of candidates across every table, in batches;
- `audit`: one record per anonymisation run or erasure, counts only;
- `find`: who a request is about: every record matching its keys (address, phone, ref, application id);
- `export`: everything held about one person, for an access request;
- `erasure`: an erasure request, erased together in one transaction (and the file backend's copies);
- `erased`: whether a mailed link still speaks for a person we hold (the web endpoints' check);
- `run`: the retention run the flow and `junkan privacy` share.
"""
