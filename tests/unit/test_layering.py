"""The library's layers (docs/architecture.md, "Packages in their order").

- `junkan/` never imports Prefect, not even through flows/ or tasks/. Checked in a fresh interpreter: in this
  one the flow tests may already have imported Prefect.
- The parts of `junkan/` (its top-level modules and its packages) stand in one order, lowest first; a module
  imports only its own part and the parts below it. So no two packages reach each other, and there is no
  package cycle. Lazy imports inside functions and imports under TYPE_CHECKING count like the others.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "junkan"

#: Lowest first. A new top-level module or package takes its place here (below everything that uses it).
ORDER = (
    # Foundations: small helpers with no state of their own.
    "backoff", "batching", "tally", "count_labels", "unparsed", "files", "identity", "keyed", "clock",
    "config_check", "config", "http", "links", "plausibility",
    # The schema and the table helpers every package shares.
    "db", "quarantine", "tombstone",
    # The library's packages, each above what it asks.
    "consent", "mail", "ats", "partner", "outbox", "engagement", "ingest", "pool", "privacy",
    "reports", "preview", "web",
    # One run's settings, engine, clock and sender: built by the entry points only.
    "runtime", "demo", "cli",
)
RANK = {name: rank for rank, name in enumerate(ORDER)}

PROBE = """
import importlib, json, pkgutil, sys
import junkan
for module in pkgutil.walk_packages(junkan.__path__, "junkan."):
    importlib.import_module(module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & {"prefect", "flows", "tasks"})))
"""


def test_importing_every_junkan_module_loads_neither_prefect_nor_flows_nor_tasks() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def part_of(dotted: str) -> str | None:
    """The part of junkan/ a dotted module name belongs to (`junkan.outbox.cancel` -> `outbox`)."""
    names = dotted.split(".")
    return names[1] if names[0] == "junkan" and len(names) > 1 else None


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every junkan module or name `path` imports, relative imports resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts
    package = package if path.name == "__init__.py" else package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join((*package[:len(package) - node.level + 1], *([base] if base else [])))
            # `from junkan import tombstone` imports the part `tombstone`, not the package `junkan`.
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "junkan" else [base]
            yield from ((node.lineno, name) for name in names)


def back_edges(library: Path) -> list[str]:
    found = []
    for path in sorted(library.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "migrations" in rel.parts or path == library / "__init__.py":
            continue
        own = part_of(".".join(rel.with_suffix("").parts))
        assert own in RANK, f"{rel}: junkan.{own} has no place in ORDER; add it above what it imports"
        for line, name in imported(path):
            target = part_of(name)
            if target is None or target == own:
                continue
            assert target in RANK, f"{rel}:{line} imports junkan.{target}, which has no place in ORDER"
            if RANK[target] > RANK[own]:
                found.append(f"{rel}:{line} imports {name}: {target} is above {own}")
    return found


def test_every_module_imports_only_its_own_part_and_the_parts_below_it() -> None:
    assert back_edges(LIBRARY) == []
