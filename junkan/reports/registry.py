"""The KPI registry: every `.sql` file in sql/reports is one query defining one KPI (or one family of
rates sharing a denominator). Adding a KPI means adding a file; nothing here lists them.

A file starts with `-- key: value` header lines:

    -- kpi: follow_up_rate = followed_up / eligible   (a rate: numerator / denominator columns)
    -- kpi: hires = n                                 (a count or a sum: one column)
    -- group: follow_up                               (the report section)
    -- dims: job_id, department                       (columns the rows are broken down by; may be empty)
    -- apart: no_address, late                        (extra columns shown next to the figure)
    -- needs: sla_calendar                            (prepared inputs, see compute.py)
    -- with: reapplied                                (shared common table expressions, see below)

Besides :start and :end, a query may bind :horizon (the period end + 30 days).
    -- empty: no rejections in the period             (why a rate has no value when its denominator is 0)

The query binds `:start` and `:end` (UTC instants, end exclusive) and returns one row per combination of
the dims; overall figures are sums of the rows, so every column but the dims must be additive.

Where figures of two files must count the same people, the definition is written once, in
sql/reports/parts/<name>.sql (common table expressions, `name AS (...)` separated by commas), and each file
names it in a `-- with:` header: its CTEs come first, then the file's own (the file's query starts with
`SELECT`, or with `WITH` for CTEs of its own). The query run, and hashed, is the file with its parts in place.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
#: Folder (inside a queries folder) of the shared CTEs a `-- with:` header names.
PARTS = "parts"

#: KPIs of the issue's table whose data does not exist yet: reported as "—" with this reason, never
#: omitted, so analysts' scripts see a stable set of keys. A `.sql` file defining one replaces its entry.
#: Empty since the talent pool exists (every KPI of the issue has a definition).
PENDING_REASON = "data not available yet"
PENDING_KPIS: dict[str, str] = {}

_HEADER = re.compile(r"^--\s*([a-z_]+):(.*)$")
_KPI = re.compile(r"^([a-z][a-z0-9_]*)\s*=\s*([a-z][a-z0-9_]*)(?:\s*/\s*([a-z][a-z0-9_]*))?$")
_OWN_WITH = re.compile(r"WITH\s", re.IGNORECASE)


class RegistryError(ValueError):
    """A KPI file is malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class KpiDef:
    name: str
    group: str
    #: Column holding the count (or the numerator of a rate).
    numerator: str
    #: Column holding the denominator; None for a count.
    denominator: str | None
    query: str

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


@dataclass(frozen=True, slots=True)
class QueryDef:
    name: str
    path: Path
    sql: str
    group: str
    dims: tuple[str, ...]
    apart: tuple[str, ...]
    needs: tuple[str, ...]
    kpis: tuple[KpiDef, ...]
    #: Reason shown for a rate whose denominator is zero.
    empty: str = "nothing to measure in the period"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _part(path: Path, name: str) -> str:
    """The CTEs of parts/<name>.sql beside `path`, without their leading comment."""
    part = path.parent / PARTS / f"{name}.sql"
    if not part.is_file():
        raise RegistryError(f"{path.name}: '-- with: {name}' names no file {PARTS}/{name}.sql")
    lines = part.read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def _with_parts(path: Path, body: str, names: tuple[str, ...]) -> str:
    if not names:
        return body
    shared = ",\n".join(_part(path, name) for name in names)
    own = _OWN_WITH.match(body)
    return f"WITH {shared},\n{body[own.end():]}" if own else f"WITH {shared}\n{body}"


def parse_query(path: Path) -> QueryDef:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    headers: dict[str, list[str]] = {}
    n_header = 0
    for line in lines:
        if not line.startswith("--"):
            break
        n_header += 1
        match = _HEADER.match(line)
        if match:
            headers.setdefault(match.group(1), []).append(match.group(2).strip())
    with_names = _names(",".join(headers.get("with", [])))
    text = "".join(lines[:n_header]) + _with_parts(path, "".join(lines[n_header:]), with_names)
    name = path.stem
    if "group" not in headers:
        raise RegistryError(f"{path.name}: no '-- group:' header")
    if not headers.get("kpi"):
        raise RegistryError(f"{path.name}: no '-- kpi:' header")
    group = headers["group"][0]
    kpis = []
    for raw in headers["kpi"]:
        match = _KPI.match(raw)
        if not match:
            raise RegistryError(f"{path.name}: cannot read '-- kpi: {raw}' (expected 'name = col [/ col]')")
        kpis.append(KpiDef(match.group(1), group, match.group(2), match.group(3), name))
    return QueryDef(
        name=name, path=path, sql=text, group=group,
        dims=_names(headers.get("dims", [""])[0]), apart=_names(",".join(headers.get("apart", []))),
        needs=_names(",".join(headers.get("needs", []))), kpis=tuple(kpis),
        empty=headers.get("empty", ["nothing to measure in the period"])[0],
    )


@cache
def _load(directory: Path) -> tuple[QueryDef, ...]:
    queries = tuple(parse_query(p) for p in sorted(directory.glob("*.sql")))
    seen: dict[str, str] = {}
    for q in queries:
        for k in q.kpis:
            if k.name in seen:
                raise RegistryError(f"{q.path.name}: KPI {k.name!r} is already defined in {seen[k.name]}.sql")
            seen[k.name] = q.name
    return queries


def load_queries(directory: Path = SQL_DIR) -> tuple[QueryDef, ...]:
    """Every KPI query, sorted by file name; cached per directory."""
    return _load(directory.resolve())


def kpi_names(directory: Path = SQL_DIR) -> list[str]:
    """Every KPI the report has a key for: those defined by files, then the pending ones."""
    defined = [k.name for q in load_queries(directory) for k in q.kpis]
    return defined + [n for n in PENDING_KPIS if n not in defined]
