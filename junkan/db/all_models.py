"""Imports every module that defines tables, so Base.metadata is complete (Alembic, tests)."""

from junkan.db import (
    models,  # noqa: F401
    models_engagement,  # noqa: F401
    models_ingest,  # noqa: F401
    models_partner,  # noqa: F401
    models_pool,  # noqa: F401
    models_preferences,  # noqa: F401
    models_privacy,  # noqa: F401
    models_reports,  # noqa: F401
)
