"""An installed wheel carries the migrations, so `junkan db upgrade` works without a checkout.

Building the wheel itself needs setuptools from the package index, which tests never reach; these
checks cover what breaks it in practice: a migration file the package-data patterns do not match, or
the migrations looked up outside the package.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import junkan
from junkan.db.engine import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(junkan.__file__).resolve().parent


def _package_data_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]["junkan"]


def test_migrations_are_looked_up_inside_the_package() -> None:
    assert MIGRATIONS_DIR == PACKAGE / "db" / "migrations"
    assert (MIGRATIONS_DIR / "env.py").is_file()


def test_every_migration_file_is_declared_package_data() -> None:
    patterns = _package_data_patterns()
    source = ROOT / "sql" / "migrations"
    files = [path for path in source.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    assert len([path for path in files if path.parent.name == "versions"]) >= 4
    missing = [
        str(path.relative_to(source)) for path in files
        if not any(fnmatch(f"db/migrations/{path.relative_to(source).as_posix()}", pattern)
                   for pattern in patterns)
    ]
    assert missing == []


def test_the_package_copy_is_the_source_tree() -> None:
    # One history only: junkan/db/migrations is a link to sql/migrations, not a second copy.
    assert MIGRATIONS_DIR.resolve() == (ROOT / "sql" / "migrations").resolve()
