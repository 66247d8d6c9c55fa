"""Only `junkan/outbox/` writes `message.state` (docs/outbox.md "Transitions"): everyone else calls
`junkan.outbox.transitions`. Read from the source, so a new raw UPDATE elsewhere fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "junkan"
OWNER = LIBRARY / "outbox"

#: Modules outside the outbox that may write the state, and why. Keep it short: each entry is a debt.
ALLOWED: dict[str, str] = {}

_RAW_UPDATE = re.compile(r"\bUPDATE\s+message\b", re.IGNORECASE)
_RAW_STATE = re.compile(r"\bstate\s*=", re.IGNORECASE)


def _writes_state(tree: ast.AST) -> list[int]:
    """Lines that write a `state`: `.values(state=…)` / `.values({"state": …})`, a message row literal
    (a dict with `state` and `logical_key`), or raw SQL that updates `message` and sets `state`."""
    lines: list[int] = []
    strings: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            if not _may_target_message(node.func.value):
                continue
            if any(k.arg == "state" for k in node.keywords):
                lines.append(node.lineno)
            if any(isinstance(a, ast.Dict) and _keys(a) >= {"state"} for a in node.args):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict) and _keys(node) >= {"state", "logical_key"}:
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append((node.lineno, node.value))
    if any(_RAW_UPDATE.search(s) for _, s in strings):
        lines.extend(n for n, s in strings if _RAW_STATE.search(s))
    return lines


def _may_target_message(chain: ast.expr) -> bool:
    """False only when the statement is visibly an `update(...)` of another table (`ats_writeback` has a
    `state` of its own); a chain whose target cannot be seen counts as the message's."""
    for node in ast.walk(chain):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "update":
            return (bool(node.args) and "message" in ast.unparse(node.args[0]).lower()) or not node.args
    return True


def _keys(node: ast.Dict) -> set[str]:
    return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}


def test_only_the_outbox_writes_message_state() -> None:
    offenders: dict[str, list[int]] = {}
    for path in sorted(LIBRARY.rglob("*.py")):
        if OWNER in path.parents:
            continue
        rel = path.relative_to(ROOT).as_posix()
        found = _writes_state(ast.parse(path.read_text(encoding="utf-8")))
        if found and rel not in ALLOWED:
            offenders[rel] = found
    assert offenders == {}, f"message.state written outside junkan/outbox/: {offenders}"


def test_the_scan_sees_each_way_of_writing_the_state() -> None:
    """The detector itself: each form a past offender used is caught, a read is not."""
    samples = {
        'update(Message).where(Message.state == "pending").values(state="cancelled")': True,
        'update(message_table).values(state="cancelled")': True,
        'stmt.values(state="cancelled")': True,
        'update(AtsWriteback).where(AtsWriteback.id == 1).values(state="sending")': False,
        'update(Message).values({"state": "cancelled"})': True,
        'conn.execute(insert(T), [{"logical_key": k, "state": "pending"}])': True,
        'conn.exec_driver_sql("UPDATE message SET state = ? WHERE id = ?")': True,
        'select(Message.id).where(Message.state == "pending")': False,
        'client.get("/postings", {"state": "published", "limit": 100})': False,
    }
    for source, writes in samples.items():
        assert bool(_writes_state(ast.parse(source))) is writes, source


def test_every_allowed_module_still_exists_and_still_needs_it() -> None:
    for rel in ALLOWED:
        path = ROOT / rel
        assert path.exists(), rel
        assert _writes_state(ast.parse(path.read_text(encoding="utf-8"))), f"{rel} no longer writes it"
