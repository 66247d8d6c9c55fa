"""Refusing a bad configuration: unknown keys (typos) and bad values, named the way the operator wrote them.

pydantic-settings only looks up the variables it knows, so `JUNKAN_MAIL__BACKEDN` would be ignored; these
checks walk every `JUNKAN_*` variable and every key of the TOML file against the model instead, and suggest
the closest valid name. Bad values are reported as `JUNKAN_MAIL__BACKEND: 'smpt' is not one of …` (or
`junkan.toml: mail.backend …` when the value came from the file), never as a traceback.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

Loc = tuple[str | int, ...]


class ConfigError(ValueError):
    """The configuration was refused; `problems` holds one readable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _nested_model(field: FieldInfo) -> tuple[type[BaseModel] | None, bool]:
    """(the model a field holds, whether it is a list of them) — (None, False) for a plain value."""
    annotation = field.annotation
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, True
        return None, False
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, False
    return None, False


def _env_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    """Every variable name the model accepts: sections (JSON values) and their fields; lists are one value."""
    for name, field in model.model_fields.items():
        full = f"{prefix}{name.upper()}"
        yield full
        nested, is_list = _nested_model(field)
        if nested is not None and not is_list:
            yield from _env_names(nested, f"{full}__")


def _file_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every dotted key the file accepts; items of a list of tables share one name (`partners.kind`)."""
    for name, field in model.model_fields.items():
        full = f"{prefix}{name}"
        yield full
        nested, _ = _nested_model(field)
        if nested is not None:
            yield from _file_keys(nested, f"{full}.")


#: Settings that moved: the old name is refused with the new one, never silently ignored.
MOVED = {"recontact.pool_consent_days": "consent.talent_pool_days", "notice.timezone": "business.timezone"}


def _moved(wrong: str) -> str | None:
    """The new name of a moved setting, spelt like `wrong` (a dotted file key or a JUNKAN_ variable)."""
    for old, new in MOVED.items():
        if wrong == old:
            return new
        env_old = old.replace(".", "__").upper()
        if wrong.endswith(f"_{env_old}"):
            return wrong.removesuffix(env_old) + new.replace(".", "__").upper()
    return None


def _suggestion(wrong: str, valid: Sequence[str]) -> str:
    moved = _moved(wrong)
    if moved is not None:
        return f" (it moved: use {moved})"
    close = difflib.get_close_matches(wrong, valid, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_env_vars(
    model: type[BaseModel], environ: Mapping[str, str], *, prefix: str, not_settings: frozenset[str]
) -> list[tuple[Loc, str]]:
    """`prefix*` variables that name no setting (case-insensitive, nested with `__`), with a suggestion."""
    valid = sorted(_env_names(model, prefix))
    known = set(valid)
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(prefix) or upper in not_settings or upper in known:
            continue
        loc: Loc = tuple(upper.removeprefix(prefix).lower().split("__"))
        problems.append((loc, f"{name}: unknown setting{_suggestion(upper, valid)}"))
    return problems


def unknown_file_keys(
    model: type[BaseModel], data: Mapping[str, Any], *, file: Path
) -> list[tuple[Loc, str]]:
    """Keys of the TOML file, at every level, that name no setting, with a suggestion."""
    valid = sorted(_file_keys(model))
    problems: list[tuple[Loc, str]] = []

    def walk(model: type[BaseModel], table: Mapping[str, Any], loc: Loc, dotted: str) -> None:
        for key, value in table.items():
            field = model.model_fields.get(key)
            where = f"{dotted}{key}"
            if field is None:
                in_list = bool(loc) and isinstance(loc[-1], int)
                shown = f"{dotted[:-1]}[{loc[-1]}].{key}" if in_list else where
                problems.append(((*loc, key), f"{file}: unknown setting {shown}{_suggestion(where, valid)}"))
                continue
            nested, is_list = _nested_model(field)
            if nested is None:
                continue
            if is_list and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        walk(nested, item, (*loc, key, index), f"{where}.")
            elif isinstance(value, Mapping):
                walk(nested, value, (*loc, key), f"{where}.")

    walk(model, data, (), "")
    return problems


def _field_at(model: type[BaseModel], loc: Loc) -> FieldInfo | None:
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return None
        field = current.model_fields[part]
        current, _ = _nested_model(field)
    return field


def _is_secret(field: FieldInfo | None) -> bool:
    """A secret, or a setting marked `json_schema_extra={"withheld": True}` (addresses): never echoed."""
    if field is None:
        return False
    extra = field.json_schema_extra
    if isinstance(extra, dict) and extra.get("withheld"):
        return True
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in typing.get_args(annotation) or any(
        SecretStr in typing.get_args(arg) for arg in typing.get_args(annotation)
    )


def _where(loc: Loc, environ_upper: Mapping[str, str], prefix: str, file: Path | None,
           file_data: Mapping[str, Any]) -> str:
    """The name the operator used for the value at `loc`: the variable, else the file's key."""
    names = [str(part) for part in loc if isinstance(part, str)]
    dotted = ".".join(f"[{p}]" if isinstance(p, int) else p for p in loc).replace(".[", "[")
    for length in range(len(names), 0, -1):
        variable = prefix + "__".join(names[:length]).upper()
        if variable in environ_upper:
            return variable if length == len(names) and len(names) == len(loc) else f"{variable} ({dotted})"
    if file is not None and _lookup(file_data, loc):
        return f"{file}: {dotted}"
    return dotted


def _lookup(data: Any, loc: Loc) -> bool:
    for part in loc:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False
        elif not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bad_values(
    model: type[BaseModel],
    exc: ValidationError,
    *,
    environ: Mapping[str, str],
    prefix: str,
    file: Path | None,
    file_data: Mapping[str, Any],
    reported: set[Loc],
) -> list[str]:
    """One line per validation error: the setting's name, the value (unless secret) and what is allowed."""
    environ_upper = {name.upper(): value for name, value in environ.items()}
    lines = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden" and loc in reported:
            continue
        where = _where(loc, environ_upper, prefix, file, file_data)
        field = _field_at(model, loc)
        value = "(secret)" if _is_secret(field) else _shown(error.get("input"))
        if error["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown setting")
        elif error["type"] == "literal_error":
            allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
            hint = _suggestion(str(error.get("input")), allowed)
            lines.append(f"{where}: {value} is not one of {', '.join(allowed)}{hint}")
        elif error["type"] == "missing":
            lines.append(f"{where}: required")
        else:
            # A validator's own ValueError is already a sentence for the operator: drop pydantic's prefix.
            reason = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
            message = str(reason) if reason is not None else str(error["msg"])
            lines.append(f"{where}: {value} is not valid: {message[:1].lower()}{message[1:]}")
    return lines
