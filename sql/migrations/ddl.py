"""What the revisions in versions/ share: the portable column types and the way a table is dropped.

Imported as `junkan.db.migrations.ddl` (the package's link to sql/migrations, copied into a wheel), so
it is found wherever Alembic runs the revisions. Everything here is part of the migration history: a
changed definition would silently change what every old revision creates. Never edit one; a revision
that needs something else declares it itself, or this module gains a new name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import junkan.db.types

#: Primary and foreign keys: BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY
#: is the auto-incrementing rowid.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: JSONB on PostgreSQL, JSON text on SQLite.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
#: Aware UTC instants on both dialects.
TS = junkan.db.types.UtcDateTime(timezone=True)


def drop_table(name: str, *indexes: str) -> None:
    """Drop the table's indexes, then the table.

    The table would take its indexes with it; dropping them by name first keeps the statements the
    downgrades have always issued, and a downgrade's offline SQL names every index its upgrade created.
    """
    if indexes:
        with op.batch_alter_table(name, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
    op.drop_table(name)


def drop_columns(table: str, *columns: str) -> None:
    """Drop columns in batch mode: SQLite rebuilds the table, PostgreSQL issues ALTER TABLE … DROP COLUMN."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.drop_column(column)
