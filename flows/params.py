"""Flow parameters: the types and descriptions the Prefect UI turns into a form, and the run names.

Descriptions are given as `param: T = Field(default, description=…)`: Prefect 3.9 builds the form from that
(or from the docstring) but drops the description of an `Annotated[T, Field(…)]` parameter. Every text an
operator reads in the UI (flow and parameter descriptions, artifact descriptions) is Japanese first, then
English (`ja_en`, from junkan.count_labels so that tasks/ can use it too).

A parameter the form may leave empty is `blankable(T)`, not `T | None`: pydantic writes `T | None` as
`anyOf: [T, {"type": "null"}]`, which the Prefect UI draws as two tabs with the null one chosen for the
default, reading `Property is type "None"`. `blankable(T)` keeps the Python type `T | None` but shows the
form T's schema alone. Its `"default": null` would then be wrong twice over: the UI puts the default in the
field and refuses to submit it ("None is not of type 'string'"), and the API refuses a null where the
schema has a default. So the parameter schemas Prefect generates leave out a None default where the
schema admits no null (`_parameter_default_schema` below, in force wherever a flow module is imported:
`prefect deploy` and `junkan serve` alike): the field starts empty, an empty field is not sent, the
flow's default None applies, and the API (which adds null to the types of a property without a default)
still takes an explicit null. tests/flows/test_deployment_forms.py checks the schemas and what the API
accepts; the forms were checked in the Prefect 3.9 UI (docs/operations.md "Run forms").

No public route gives the same schema (checked with Prefect 3.9.1, pydantic 2.14): Prefect rebuilds each
parameter's Field keeping only its default, description and a *dict* `json_schema_extra` (a callable is
dropped, and one in an `Annotated[…, Field(…)]` loses to Prefect's dict); hooks on the annotation
(`WithJsonSchema`, `__get_pydantic_json_schema__`) run inside the default wrapper, before pydantic adds the
default; a `default_factory` is not resolved when a flow is called directly; and the deployment's
`parameter_openapi_schema` is always computed from the flow (`prefect deploy` and the runner alike).

Dates carry a `pattern` as well as `format: date`: the API checks parameters against the schema when a run
is created (`enforce_parameter_schema`), but its validator ignores `format`, so without the pattern
`as_of=2026-13-01` would make a run that only fails once it starts. The pattern knows month lengths; only
29 February of a common year gets through to the run, which then refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from prefect._internal.pydantic.schemas import GenerateEmptySchemaForUserClasses
from pydantic import Field, TypeAdapter, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from junkan.count_labels import ja_en as ja_en  # re-exported: flows import it from here
from junkan.runtime import runtime

DATE_PATTERN = (
    r"^\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2\d))$"
)

#: A calendar day, YYYY-MM-DD: a date picker in the UI, refused by the API when it is no real day.
Day = Annotated[date, Field(json_schema_extra={"pattern": DATE_PATTERN})]


def blankable(kind: Any) -> Any:
    """`kind | None` drawn as `kind` alone: no "None" tab in the form (see the module's docstring)."""
    return Annotated[kind | None, WithJsonSchema(TypeAdapter(kind).json_schema())]


#: A day the form may leave empty.
OptionalDay = blankable(Day)


def _admits_null(schema: JsonSchemaValue) -> bool:
    kinds = schema.get("type")
    return kinds == "null" or (isinstance(kinds, list) and "null" in kinds) or any(
        _admits_null(branch) for branch in schema.get("anyOf", []) if isinstance(branch, dict))


_prefect_default_schema = GenerateEmptySchemaForUserClasses.default_schema


def _parameter_default_schema(self: GenerateEmptySchemaForUserClasses,
                              schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
    """Prefect's parameter schemas (its own generator class, pinned Prefect 3.9), less a None default
    that the property's schema does not admit (see the module's docstring)."""
    json_schema = _prefect_default_schema(self, schema)
    if schema.get("default", ...) is None and not _admits_null(json_schema):
        json_schema.pop("default", None)
    return json_schema


GenerateEmptySchemaForUserClasses.default_schema = _parameter_default_schema  # type: ignore[method-assign,assignment]


AS_OF_HELP = ja_en(
    "過去の日の処理をやり直します（YYYY-MM-DD、業務のタイムゾーン）。その日までに期限が来たものを対象にします。"
    "メールは今日の送信時間帯にのみ送られ、未来の日は受け付けません。空欄なら今日。",
    "Do the work of a past day (YYYY-MM-DD, business time zone): what was due by then. Mails "
    "still go out only inside today's sending window; a future day is refused. Empty: today.")


def as_of_field(description: str = AS_OF_HELP) -> Any:
    return Field(None, description=description)


def dry_run_field(description: str) -> Any:
    """Each flow says what its dry run leaves undone, and what it still does for real."""
    return Field(False, description=description)


#: Boolean parameters shown in the run name when they are on.
_FLAGS = {"dry_run": "dry run", "full_refresh": "full refresh", "recompute": "recompute"}


def today_local() -> date:
    return runtime().clock.today()


def run_namer(flow_name: str, day: Callable[[dict[str, Any]], object] | None = None) -> Callable[[], str]:
    """`flow_run_name` for a flow: `daily 2026-11-25 (dry run)` instead of a random `casual-toad`.

    `day` picks what follows the name from the parameters; by default `as_of`, else today (Asia/Tokyo).
    """

    def name() -> str:
        from prefect.runtime import flow_run

        parameters: dict[str, Any] = dict(flow_run.parameters)
        shown = day(parameters) if day else (parameters.get("as_of") or today_local())
        flags = [label for key, label in _FLAGS.items() if parameters.get(key)]
        return f"{flow_name} {shown}" + "".join(f" ({flag})" for flag in flags)

    return name
