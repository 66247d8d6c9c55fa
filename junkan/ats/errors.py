"""The error of an ATS source that cannot be read at all: a bad import file, settings that name no source.

HTTP failures of the API adapters are `junkan.http.HttpError`, like those of every other vendor.
"""

from __future__ import annotations


class AtsError(RuntimeError):
    """The source is unusable as configured or as exported; the message names the file or the setting."""
