"""Files holding personal data are created readable by their owner only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from junkan.db.engine import make_engine
from junkan.files import write_private
from junkan.mail.backends.file import FileBackend
from junkan.mail.sender_identity import SenderHeaders
from tests.mail_support import notice_mail


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common default, under which a plainly created file is 0644."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_write_private_creates_0600_and_narrows_an_existing_world_readable_file(tmp_path: Path) -> None:
    new, old = tmp_path / "export.json", tmp_path / "old.csv"
    old.write_bytes(b"stale")
    assert mode(old) == 0o644
    write_private(new, b"{}")
    write_private(old, b"fresh")
    assert (mode(new), new.read_bytes()) == (0o600, b"{}")
    assert (mode(old), old.read_bytes()) == (0o600, b"fresh")


def test_a_new_sqlite_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "junkan.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            conn.execute(text("INSERT INTO t VALUES ('佐藤 花子')"))
        assert mode(path) == 0o600
        assert mode(Path(f"{path}-wal")) == 0o600
    finally:
        engine.dispose()


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_file_backends_eml_is_0600(tmp_path: Path, dry_run: bool) -> None:
    backend = FileBackend(tmp_path / "outbox", SenderHeaders("r@junkan.example"))
    assert backend.send(notice_mail(), dry_run=dry_run).status == "accepted"
    assert mode(backend.path_for(notice_mail().message_id, dry_run=dry_run)) == 0o600
