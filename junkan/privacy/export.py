"""An access request: everything held about one person, every table, as JSON-safe data.

Driven by junkan.privacy.tables.PERSON_TABLES, the map the erasure uses too, so the export and the
erasure cannot disagree about where a person's rows are.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from junkan.db.models import Application, Candidate
from junkan.identity import normalize_email
from junkan.privacy.keyed import email_hash
from junkan.privacy.tables import PERSON_TABLES, People, rows_of, table


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def export_person(conn: Connection, address: str, key: bytes) -> dict[str, Any]:
    """{"email": …, "tables": {table: [row, …]}} for every table that holds a row of the person."""
    normalised = normalize_email(address)
    if not normalised:
        raise ValueError("an access request needs an e-mail address")
    ids = list(conn.execute(select(Candidate.id).where(Candidate.email_key == normalised)).scalars())
    keys = [(r.source, r.external_id) for r in conn.execute(
        select(Application.source, Application.external_id).where(Application.candidate_id.in_(ids)))]
    phones = [p for p in conn.execute(select(Candidate.phone_key).where(Candidate.id.in_(ids))).scalars()
              if p]
    people = People(candidate_ids=ids, application_keys=keys, email_hashes=[email_hash(key, normalised)],
                    search_terms=[normalised, *phones])
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in PERSON_TABLES:
        t = table(name)
        query = select(t).where(rows_of(name, people)).order_by(*t.primary_key.columns)
        rows = [{k: _json(v) for k, v in row._mapping.items()} for row in conn.execute(query)]
        if rows:
            tables[name] = rows
    return {"email": normalised, "tables": tables}
