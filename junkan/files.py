"""Files that hold personal data are readable by their owner only.

Exports for an access request, shortlists, reports, the SQLite database and the `file` backend's .eml
files name candidates. Created with the process umask they would be 0644, readable by every account on
the machine. `write_private` creates them 0600 whatever the umask, and narrows an existing file before
writing into it, so an old world-readable copy does not stay readable once it holds new data.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: Owner read and write, nothing for group and others.
PRIVATE_MODE = 0o600


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (replacing its content), mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, PRIVATE_MODE)  # open() applies the mode only when it creates the file
        fh.write(data)


def create_private(path: Path) -> None:
    """Create `path` empty, mode 0600, unless it exists (then it is left as it is)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
