"""event recipient hash: forget the plain SHA-256 of every stored provider event's address

Revision 0012_event_recipient_hash, after 0011_report_covering; written 2026-12-02.

Until now `email_event.email_hash` held the plain SHA-256 of the recipient for every event: anyone with
the table could confirm an address by hashing a guess. The code now keeps the keyed hash
(JUNKAN_RETENTION__HASH_KEY), and only while an event has no message. This migration cannot compute
keyed hashes (it would need the runtime secret), so it forgets the plain ones: an event with a message
never needed it (the message names the candidate), and an orphan can still be attached by our id or the
X-Message-Id. The downgrade has nothing to give back.
"""
from __future__ import annotations

from alembic import op

revision, down_revision = '0012_event_recipient_hash', '0011_report_covering'
branch_labels = depends_on = None


def upgrade() -> None:
    op.execute("UPDATE email_event SET email_hash = NULL WHERE email_hash IS NOT NULL")


def downgrade() -> None:
    pass
