"""The library never imports Prefect, not even through flows/ or tasks/ (DESIGN.md §1).

Checked in a fresh interpreter: in this one the flow tests may already have imported Prefect.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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
