"""SQLite WAL checkpoints after the webhook has answered, instead of inside a request's commit.

A webhook batch dirties a few thousand pages (random-key indexes). With SQLite's automatic checkpoint the
commit that crosses the threshold also copies the WAL back into the database file and syncs it, on the
request path, nearly every batch. The web app raises that threshold for its webhook connections (a safety
net only, see `event_sql`) and runs a PASSIVE checkpoint here once the response has been sent. PASSIVE
never waits for readers or writers, so it cannot delay the next batch; frames it could not copy yet are
copied by the next one.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("junkan.web")


class WalCheckpointer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._running = threading.Lock()

    def run(self) -> None:
        """One PASSIVE checkpoint; a no-op while another one is still running (it copies these frames too)."""
        if not self._running.acquire(blocking=False):
            return
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except SQLAlchemyError as exc:
            # Harmless: the data is committed in the WAL; the next checkpoint (or SQLite's own) copies it.
            log.warning("WAL checkpoint skipped: %s", type(exc).__name__)
        finally:
            self._running.release()
