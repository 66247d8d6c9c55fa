"""docs/operations.md documents every setting Junkan reads, so operators never have to read code."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from junkan.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _env_names(model: type[BaseModel], prefix: str = "JUNKAN_") -> Iterator[str]:
    for name, field in model.model_fields.items():
        nested = [t for t in (field.annotation, *typing.get_args(field.annotation))
                  if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested and name != "partners":
            yield from _env_names(nested[0], f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in _env_names(Settings) if f"`{name}`" not in text]
    assert not missing, f"add to docs/operations.md: {missing}"
