"""The checks every spreadsheet source passes before a byte of it is parsed.

A path set by hand can point anywhere: a directory gives a raw IsADirectoryError, and a device such as
/dev/zero never ends, so reading one would hang the run. Only a non-empty regular file is read.
"""

from __future__ import annotations

import stat
from pathlib import Path

from junkan.ats.base import SourceFileError

#: The first bytes of the formats people save by mistake under a spreadsheet's name.
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_source_file(path: Path) -> int:
    """The file's size; SourceFileError unless `path` is a readable, non-empty regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceFileError(path, "import file not found") from None
    except PermissionError:
        raise SourceFileError(path, "the file cannot be read (permission denied)") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceFileError(path, "is a directory, not a file; point JUNKAN_ATS__PATH at the export itself")
    if not stat.S_ISREG(info.st_mode):
        raise SourceFileError(path, "is not a regular file (a device, pipe or socket); only files are read")
    if info.st_size == 0:
        raise SourceFileError(path, "the file is empty (0 bytes)")
    return info.st_size


def read_head(path: Path, size: int = 8) -> bytes:
    """The first `size` bytes, for telling formats apart; a failure to open is one clear line."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: OSError) -> SourceFileError:
    return SourceFileError(path, f"the file cannot be read ({exc.strerror or type(exc).__name__})")
