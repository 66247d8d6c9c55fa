"""An access request: everything held about one person, every table, as JSON-safe data.

Driven by junkan.privacy.tables.PERSON_TABLES, the map the erasure uses too, so the export and the
erasure cannot disagree about where a person's rows are.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from junkan.config import LinkSettings
from junkan.mail.backends.file import mail_files
from junkan.privacy.find import RequestKeys, as_rows, find
from junkan.privacy.tables import PERSON_TABLES, rows_of, table


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def export_person(conn: Connection, keys: RequestKeys | str, key: bytes, *,
                  links: LinkSettings, outbox_dir: Path | None = None) -> dict[str, Any]:
    """{"request": keys, "matched": [why each record is in], "tables": {table: [row, …]}} for every
    table that holds a row of the person. `keys` is a str for one e-mail address; `key` is the address
    hash key; `links` holds the secret candidate refs are made with; `outbox_dir` is the `file` mail
    backend's folder, whose copies of the person's mails are listed under "files". NotAKey for unusable
    keys."""
    if isinstance(keys, str):
        keys = RequestKeys(emails=(keys,))
    keys = keys.normalised()
    found = find(conn, keys, hash_key=key, links=links)
    people = found.people(key)
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in PERSON_TABLES:
        t = table(name)
        query = select(t).where(rows_of(name, people)).order_by(*t.primary_key.columns)
        rows = [{k: _json(v) for k, v in row._mapping.items()} for row in conn.execute(query)]
        if rows:
            tables[name] = rows
    return {"email": keys.emails[0] if keys.emails else None,
            "request": {"emails": list(keys.emails), "phones": list(keys.phones),
                        "candidate_refs": list(keys.candidate_refs),
                        "application_ids": list(keys.application_ids)},
            "matched": as_rows(found), "tables": tables,
            "files": [str(p) for p in mail_files(outbox_dir, _public_ids(tables), found.emails)]
            if outbox_dir else []}


def _public_ids(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [str(row["public_id"]) for row in tables.get("message", [])]
