"""File backend: every mail becomes an RFC 5322 `.eml` file in `outbox_dir`, named
`msg-<message id>.eml`.

Used by `make demo` and for previews. Files are written to a temporary name and renamed into place, so a
reader (or a crash) never sees half a message. Dry runs go to `outbox_dir/dry-run/` so that they never
mix with what was "sent".
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from junkan.config import Settings
from junkan.mail.backends.base import OutgoingMail, SendResult, scrub_error
from junkan.mail.backends.mime import DEFAULT_TIMEZONE, build_message, message_id_header, safe_id, to_bytes
from junkan.mail.sender_identity import from_display_name

DRY_RUN_SUBDIR = "dry-run"


class FileBackend:
    name = "file"

    def __init__(
        self,
        outbox_dir: Path,
        *,
        from_email: str,
        from_name: str | None = None,
        reply_to: str | None = None,
        unsubscribe_mailto: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._from_email = from_email
        self._from_name = from_name
        self._reply_to = reply_to
        self._mailto = unsubscribe_mailto
        self._timezone = timezone
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> FileBackend:
        mail = settings.mail
        return cls(
            mail.outbox_dir,
            from_email=mail.from_email,
            from_name=from_display_name(settings),
            reply_to=mail.reply_to,
            unsubscribe_mailto=mail.unsubscribe_mailto or settings.sender.contact_email,
            timezone=settings.notice.timezone,
        )

    def path_for(self, message_id: str, *, dry_run: bool = False) -> Path:
        folder = self.outbox_dir / DRY_RUN_SUBDIR if dry_run else self.outbox_dir
        # The prefix keeps names from starting with "-" (random ids do), which tools would take for options.
        return folder / f"msg-{safe_id(message_id)}.eml"

    def send(self, mail: OutgoingMail, *, dry_run: bool) -> SendResult:
        target = self.path_for(mail.message_id, dry_run=dry_run)
        try:
            data = to_bytes(
                build_message(
                    mail,
                    from_email=self._from_email,
                    from_name=self._from_name,
                    reply_to=self._reply_to,
                    unsubscribe_mailto=self._mailto,
                    readable=True,
                    now=self._clock(),
                timezone=self._timezone,
                )
            )
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
            "accepted", provider_message_id=message_id_header(mail.message_id, self._from_email)
        )

    def close(self) -> None:
        """Nothing to release: each send opens and closes its own file."""
