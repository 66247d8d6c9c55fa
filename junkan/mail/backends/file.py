"""File backend: every mail becomes an RFC 5322 `.eml` file in `outbox_dir`, named
`msg-<message id>.eml`.

For demos and previews only (`make demo`): the files are copies of every mail, names and addresses
included. An erasure removes the person's files (`forget_mails`); nothing else ever deletes them.
Files are written to a temporary name and renamed into place, so a reader (or a crash) never sees half a
message. Dry runs go to `outbox_dir/dry-run/` so that they never mix with what was "sent".
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from junkan.config import Settings
from junkan.identity import normalize_email
from junkan.mail.backends.base import OutgoingMail, SendResult, scrub_error
from junkan.mail.backends.mime import build_message, message_id_header, safe_id, to_bytes
from junkan.mail.sender_identity import SenderHeaders

DRY_RUN_SUBDIR = "dry-run"


class FileBackend:
    name = "file"

    def __init__(self, outbox_dir: Path, sender: SenderHeaders, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._sender = sender
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] | None = None) -> FileBackend:
        if clock is None:
            return cls(settings.mail.outbox_dir, SenderHeaders.from_settings(settings))
        return cls(settings.mail.outbox_dir, SenderHeaders.from_settings(settings), clock=clock)

    def path_for(self, message_id: str, *, dry_run: bool = False) -> Path:
        folder = self.outbox_dir / DRY_RUN_SUBDIR if dry_run else self.outbox_dir
        # The prefix keeps names from starting with "-" (random ids do), which tools would take for options.
        return folder / f"msg-{safe_id(message_id)}.eml"

    def send(self, mail: OutgoingMail, *, dry_run: bool) -> SendResult:
        target = self.path_for(mail.message_id, dry_run=dry_run)
        try:
            data = to_bytes(build_message(mail, self._sender, readable=True, now=self._clock()))
        except (ValueError, TypeError) as exc:  # an address the email package refuses
            return SendResult("failed", error=scrub_error(f"message could not be built: {exc}"))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except PermissionError as exc:
            # Every further mail would hit the same wall.
            return SendResult("fatal", error=scrub_error(f"cannot write to the outbox directory: {exc}"))
        except OSError as exc:  # disk full and friends: the next run may succeed
            return SendResult("retry", error=scrub_error(f"writing the .eml failed: {exc}"))
        return SendResult(
            "accepted", provider_message_id=message_id_header(mail.message_id, self._sender.from_email)
        )

    def close(self) -> None:
        """Nothing to release: each send opens and closes its own file."""


def mail_files(outbox_dir: Path, public_ids: Iterable[str], addresses: Collection[str]) -> list[Path]:
    """The `.eml` files of these messages and every file addressed to one of `addresses` (normalised),
    in `outbox_dir` and its dry-run folder.

    Dry runs name their files after throwaway ids, so only the `To` header ties them to a person: each
    file's headers are read (a request is rare, and the backend holds a demo's worth of mail).
    """
    names = {f"msg-{safe_id(p)}.eml" for p in public_ids}
    found: list[Path] = []
    for folder in (Path(outbox_dir), Path(outbox_dir) / DRY_RUN_SUBDIR):
        if folder.is_dir():
            found.extend(path for path in sorted(folder.glob("msg-*.eml"))
                         if path.name in names or (addresses and _addressed_to(path, addresses)))
    return found


def forget_mails(outbox_dir: Path, public_ids: Iterable[str], addresses: Collection[str]) -> int:
    """Delete the person's files (`mail_files`); returns how many went."""
    files = mail_files(outbox_dir, public_ids, addresses)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


def _addressed_to(path: Path, addresses: Collection[str]) -> bool:
    try:
        with path.open("rb") as fh:
            headers = BytesHeaderParser().parse(fh)
    except OSError:
        return False
    recipients = getaddresses([str(v) for v in (headers.get_all("To") or [])])
    return any(normalize_email(address) in addresses for _, address in recipients)
