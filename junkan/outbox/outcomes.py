"""Recording the outcomes of a send run (docs/outbox.md "Sending"): what the provider answered, what the
send gate stopped, which templates failed, and the counts the run reports.

Every write moves a row only out of the state the send loop left it in (`sending` for a provider's answer,
`pending` and leased to this run for a gate stop or a template failure), so a row another run has taken
meanwhile is never overwritten. `write` is thread-safe (its own connection): each worker records its own
message right after the provider call.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, bindparam, update
from sqlalchemy.orm import Session

from junkan.db.models import Message
from junkan.mail.backends import SendResult
from junkan.mail.backends.base import scrub_error
from junkan.outbox.gate import CONSENT_REASONS, Reason
from junkan.outbox.render import NoticeRow, Prepared
from junkan.tally import Tally

log = logging.getLogger("junkan.outbox")
_HTTP_STATUS = re.compile(r"^HTTP (\d{3})\b")
_T = Message.__table__

#: Called with a step name and the public ids concerned; raising simulates a crash at that step.
#: Steps: "claimed", "rendered", then in a worker, one id each: "marked_sending", "provider_call",
#: "provider_returned"; "recorded", "lease_extended" (the rows waiting in or on the pool).
Hook = Callable[[str, Sequence[str]], None]


@dataclass
class SendCounts(Tally):
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    #: Left `pending` after the backend's own retries (5xx, timeouts); the next run tries again.
    retry: int = 0
    suppressed: int = 0
    cancelled: int = 0
    #: Outcome not known: crash leftovers found at the start, sends that raised mid-call, and sends the
    #: provider got but never answered (read timeout): none of them is re-sent automatically.
    unknown: int = 0
    #: The provider refused us, not the message (401/403, TLS, our sender address): the run stopped at
    #: once.
    fatal: bool = False
    #: Sends refused that way: back to `pending` with the error recorded, sent by the run after the fix.
    held: int = 0
    #: Repeated retryable failures or unanswered sends: the provider looks down, so the run stopped early.
    provider_unavailable: bool = False
    #: Notices whose template failed to render: they stay pending, with the error recorded, until the
    #: template is fixed; the flow run ends Failed.
    template_error: int = 0
    #: Nothing (more) was sent because the sending window is closed.
    outside_window: bool = False
    #: Dry run: mails rendered and handed to the backend in dry-run mode; no state changed.
    previewed: int = 0
    #: Stopped by the send-time gate (junkan/outbox/gate.py), also counted in `cancelled`: a consent the
    #: kind depends on lapsed or was withdrawn since enqueue; hired since; applied since.
    no_consent: int = 0
    hired_since: int = 0
    applied_since: int = 0
    #: Notices sent without their partner section: `partner_info` no longer current at send time.
    partner_dropped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    #: Every message the send-time gate stopped, by the reason stored on it.
    stopped: dict[str, int] = field(default_factory=dict)

    def add_stopped(self, reasons: Mapping[str, int], *, totals: bool = True) -> None:
        """Count messages the send gate stopped by cause, and (`totals`) in `suppressed` / `cancelled`."""
        for reason, n in reasons.items():
            self.stopped[reason] = self.stopped.get(reason, 0) + n
            if reason == Reason.SUPPRESSED:
                self.suppressed += n if totals else 0
                continue
            self.cancelled += n if totals else 0
            if reason in CONSENT_REASONS:
                self.no_consent += n
            elif reason == Reason.HIRED_SINCE:
                self.hired_since += n
            elif reason == Reason.APPLIED_SINCE:
                self.applied_since += n


@dataclass
class Outcome:
    prepared: Prepared
    result: SendResult | None
    error: BaseException | None = None
    #: False when the row was never marked `sending` (its lease was lost, or the mark failed): it was not
    #: handed over and stays `pending`, so there is nothing to record.
    marked: bool = True
    #: The mark itself failed (database error): the run stops as for any other database error.
    mark_error: BaseException | None = None
    #: The worker wrote the outcome itself, right after the provider call; False when that write failed
    #: (the main thread writes it with the chunk).
    written: bool = False


@dataclass
class OutcomeRecorder:
    """Writes and counts the outcomes of one send run into `counts`, and tells when the provider looks
    down (too many retries or unanswered sends in a row)."""

    engine: Engine
    counts: SendCounts
    owner: str
    clock: Callable[[], datetime]
    hook: Hook
    max_consecutive_retries: int
    max_consecutive_unknown: int
    _consecutive_retries: int = field(default=0, init=False)
    _consecutive_unknown: int = field(default=0, init=False)

    def template_failure(self, session: Session, row: NoticeRow, exc: Exception) -> None:
        self.counts.template_error += 1
        self.counts.errors["template"] = self.counts.errors.get("template", 0) + 1
        session.execute(
            update(Message).where(Message.id == row.message_id, Message.state == "pending")
            .values(last_error=scrub_error(f"render: {type(exc).__name__}: {exc}"),
                    last_error_code="template")
            .execution_options(synchronize_session=False)
        )
        log.error("outbox: rendering %s failed (%s); it stays pending",
                  row.public_id, type(exc).__name__)

    def write_blocked(self, session: Session, blocked: list[tuple[NoticeRow, str, str]],
                       wall: datetime) -> None:
        if not blocked:
            return
        session.execute(
            update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == "pending",
                             _T.c.lease_owner == self.owner)
            .values(state=bindparam("b_state"), cancelled_reason=bindparam("b_reason"),
                    lease_owner=None, lease_until=None, updated_at=wall),
            [{"b_id": row.message_id, "b_state": state,
              "b_reason": reason} for row, state, reason in blocked],
        )
        for _row, state, _reason in blocked:
            if state == "suppressed":
                self.counts.suppressed += 1
            else:
                self.counts.cancelled += 1

    def observe(self, outcome: Outcome) -> None:
        result = outcome.result
        if result is None:
            return
        if result.status == "fatal":
            self.counts.fatal = True
        elif result.status == "retry":
            self._consecutive_retries += 1
            if self._consecutive_retries >= self.max_consecutive_retries:
                self.counts.provider_unavailable = True
        elif result.status == "unknown":
            self._consecutive_unknown += 1
            if self._consecutive_unknown >= self.max_consecutive_unknown:
                self.counts.provider_unavailable = True
        elif result.status == "accepted":
            self._consecutive_retries = 0
            self._consecutive_unknown = 0

    def record(self, outcomes: list[Outcome]) -> None:
        """Count the outcomes of a chunk, writing any a worker could not write itself (one write)."""
        unwritten = [o for o in outcomes if not o.written]
        if unwritten:
            self.write(unwritten, self.clock())
        tally = Counter(_kind(o) for o in outcomes)
        self.counts.sent += tally["accepted"]
        self.counts.failed += tally["failed"]
        self.counts.retry += tally["retry"]
        self.counts.held += tally["fatal"]
        self.counts.unknown += tally["unknown"]
        for o in outcomes:
            if o.result is not None and o.result.status != "accepted":
                code = _code(o.result)
                self.counts.errors[code] = self.counts.errors.get(code, 0) + 1
        self.hook("recorded", [o.prepared.row.public_id for o in outcomes])
        if tally["fatal"]:
            refused = [o for o in outcomes if o.result is not None and o.result.status == "fatal"]
            log.error("outbox: the provider refused us, not the messages (%s); sending stopped, %d "
                      "message(s) back to pending for the run after the fix (ids: %s)",
                      refused[0].result.error if refused[0].result else "", tally["fatal"],
                      ", ".join(o.prepared.row.public_id for o in refused)[:2000])
        if tally["failed"] or tally["unknown"]:
            log.warning("outbox: %d failed, %d unknown in this chunk (ids: %s)", tally["failed"],
                        tally["unknown"],
                        ", ".join(o.prepared.row.public_id for o in outcomes
                                  if _kind(o) in ("failed", "unknown"))[:2000])

    def write(self, outcomes: list[Outcome], wall: datetime) -> None:
        """One write for the given outcomes; each row moves only out of `sending`. Thread-safe (its own
        session): workers call it for their own message."""
        accepted, failed, retry, held, unknown = [], [], [], [], []
        for o in outcomes:
            mid = o.prepared.row.message_id
            r = o.result
            if r is None:
                err = o.error
                unknown.append({"b_id": mid, "b_code": "exception",
                                "b_error": scrub_error(f"{type(err).__name__}: {err}")})
            elif r.status == "accepted":
                accepted.append({"b_id": mid, "b_pmid": r.provider_message_id})
            elif r.status == "retry":
                retry.append({"b_id": mid, "b_error": (r.error or "retryable provider error")[:2000],
                              "b_code": _code(r)})
            elif r.status == "unknown":
                # Handed over, never answered: the provider may have it. Re-sending could mail twice.
                unknown.append({"b_id": mid, "b_code": _code(r),
                                "b_error": (r.error or "sent, but the provider's answer was lost")[:2000]})
            elif r.status == "fatal":
                # About us (key, TLS, sender), not the message: it waits for the fix, like a retry.
                held.append({"b_id": mid, "b_error": (r.error or "the provider refused us")[:2000],
                             "b_code": _code(r)})
            else:  # failed
                failed.append({"b_id": mid, "b_error": (r.error or "rejected by the provider")[:2000],
                               "b_code": _code(r)})
        with self.engine.begin() as conn:
            where = (_T.c.id == bindparam("b_id"), _T.c.state == "sending")
            if accepted:
                conn.execute(update(_T).where(*where).values(
                    state="accepted", provider_message_id=bindparam("b_pmid"), accepted_at=wall,
                    last_error=None, last_error_code=None, lease_owner=None, lease_until=None,
                    updated_at=wall), accepted)
            if failed:
                conn.execute(update(_T).where(*where).values(
                    state="failed", last_error=bindparam("b_error"), last_error_code=bindparam("b_code"),
                    lease_owner=None, lease_until=None, updated_at=wall), failed)
            if retry or held:
                # Stay leased to this run so it does not pick them up again; released when the run ends.
                conn.execute(update(_T).where(*where).values(
                    state="pending", last_error=bindparam("b_error"), last_error_code=bindparam("b_code"),
                    updated_at=wall), retry + held)
            if unknown:
                conn.execute(update(_T).where(*where).values(
                    state="unknown", last_error=bindparam("b_error"), last_error_code=bindparam("b_code"),
                    lease_owner=None, lease_until=None, updated_at=wall), unknown)


def _kind(outcome: Outcome) -> str:
    """accepted, failed, retry, fatal or unknown (a send that raised counts as unknown)."""
    return "unknown" if outcome.result is None else outcome.result.status


def _code(result: SendResult) -> str:
    """A short, stable cause for counts and review: "http_400", "read_timeout", "fatal", "retry" …"""
    if result.code:
        return result.code
    match = _HTTP_STATUS.match(result.error or "")
    return f"http_{match.group(1)}" if match else result.status
