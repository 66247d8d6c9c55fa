"""Database access: engine/session helpers and the typed models."""

from junkan.db.engine import make_engine, session_scope, upgrade

__all__ = ["make_engine", "session_scope", "upgrade"]
