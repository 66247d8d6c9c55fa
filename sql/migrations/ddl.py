"""What the revisions in versions/ share: the portable column types.

Imported as `junkan.db.migrations.ddl` (the package's link to sql/migrations, copied into a wheel), so
it is found wherever Alembic runs the revisions. Everything here is part of the migration history: a
changed definition would silently change what every old revision creates. Never edit one; a revision
that needs something else declares it itself, or this module gains a new name.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import junkan.db.types

#: Primary and foreign keys: BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY
#: is the auto-incrementing rowid.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: JSONB on PostgreSQL, JSON text on SQLite.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
#: Aware UTC instants on both dialects.
TS = junkan.db.types.UtcDateTime(timezone=True)

