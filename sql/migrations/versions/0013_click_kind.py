"""click kind: one row per message, link and fetcher (person or scanner), with a fetch count

Revision 0013_click_kind, after 0012_event_recipient_hash; written 2026-12-07.

Every GET of a tracked link used to add a row, so a link fetched 11,500 times (a load test, a mail
scanner, a person reloading) counted 11,500 clicks. A click is now one row per message, link and `kind`
(`person` or `scanner`), with the first fetch in `clicked_at`, the latest in `last_at` and the number in
`fetches`. Existing rows are merged the same way; they stay `person`, since the signals that recognise a
scanner (HEAD, timing against delivery, a burst of links) were not recorded for them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import TS

revision, down_revision = '0013_click_kind', '0012_event_recipient_hash'
branch_labels = depends_on = None

_FIRST = "SELECT MIN(id) FROM click GROUP BY message_id, link"


def upgrade() -> None:
    with op.batch_alter_table("click") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=8), server_default="person", nullable=False))
        batch.add_column(sa.Column("last_at", TS, nullable=True))
        batch.add_column(sa.Column("fetches", sa.Integer(), server_default="1", nullable=False))
    same = "FROM click c WHERE c.message_id = click.message_id AND c.link = click.link"
    op.execute(
        f"UPDATE click SET fetches = (SELECT COUNT(*) {same}), "
        f"clicked_at = (SELECT MIN(c.clicked_at) {same}), "
        f"last_at = (SELECT MAX(c.clicked_at) {same}) WHERE id IN ({_FIRST})"
    )
    op.execute(f"DELETE FROM click WHERE id NOT IN ({_FIRST})")
    with op.batch_alter_table("click") as batch:
        batch.alter_column("last_at", existing_type=TS, nullable=False)
        batch.create_unique_constraint("uq_click_message_link_kind", ["message_id", "link", "kind"])
        batch.create_check_constraint(op.f("ck_click_kind"), "kind IN ('person', 'scanner')")


def downgrade() -> None:
    # One row per recorded click again, as far as the counts allow: a merged row comes back once.
    op.execute("DELETE FROM click WHERE kind = 'scanner'")
    with op.batch_alter_table("click") as batch:
        batch.drop_constraint(op.f("ck_click_kind"), type_="check")
        batch.drop_constraint("uq_click_message_link_kind", type_="unique")
        batch.drop_column("fetches")
        batch.drop_column("last_at")
        batch.drop_column("kind")
