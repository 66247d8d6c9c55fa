"""Fixtures shared by several integration modules."""

from tests.integration._webhook import anyio_backend, hook_settings, keys

__all__ = ["anyio_backend", "hook_settings", "keys"]
