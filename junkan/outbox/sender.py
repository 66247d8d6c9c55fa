"""Sending the outbox exactly once (docs/outbox.md).

One run, chunk by chunk:

1. claim a chunk of due `pending` rows (lease; SKIP LOCKED on PostgreSQL) - committed;
2. ask the send gate (junkan/outbox/gate.py) about the chunk, in bulk, with the data as it is now, and
   render what may go; blocked rows become `suppressed` / `cancelled` with the gate's reason;
3. hand the sendable rows, still `pending` and leased, to a bounded thread pool; a worker marks its
   row `sending` (with the rendered content) and commits that immediately BEFORE its own provider call;
4. the worker calls the mail backend;
5. record the outcomes in one write per chunk: `accepted` (provider id), `failed` (the provider refused
   the message itself), back to `pending` for a retry in a later run (only when the backend knows the
   mail was not handed over) or after a `fatal` refusal of us rather than the message (bad key, TLS:
   the run stops, the error is recorded, the first run after the fix sends it), or `unknown` when it was
   handed over but no answer came (read timeout, connection lost after the request).

A crash leaves at most one row `sending` per worker (the one each worker had marked and handed over, or
was about to); the next run turns those (once their lease has run out) into `unknown` - they are never
re-sent blindly - and `junkan.outbox.settle` later puts back to `pending` those the provider provably never
took. Rows claimed but not yet marked stay `pending`: they become claimable again when the lease runs out.
While one chunk is on the wire the next is already claimed and rendered, so the pool never idles between
chunks.

This module is the send loop (claim, gate, render, hand to the workers; the dry-run preview); the leases of
rows in flight are kept by `junkan.outbox.claim.LeaseKeeper`, and outcomes, blocked rows and template
failures are written and counted by `junkan.outbox.outcomes.OutcomeRecorder`.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, update
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.engine import session_scope
from junkan.db.models import Message
from junkan.db.types import utcnow
from junkan.mail.backends import MailBackend, build_backend
from junkan.mail.identity_guard import refuse_sample_identity
from junkan.mail.timing import in_send_window
from junkan.outbox.claim import LeaseKeeper, claim_batch, lease_for, mark_stale_sending_unknown, new_owner
from junkan.outbox.enqueue import NOTICE_KINDS
from junkan.outbox.gate import gate_rows
from junkan.outbox.outcomes import Hook, Outcome, OutcomeRecorder, SendCounts
from junkan.outbox.render import (
    NoticeRenderer,
    NoticeRow,
    Prepared,
    blocker,
    load_rows,
    strip_partner_if_withdrawn,
)

__all__ = ["Hook", "OutboxSender", "SendCounts", "send_due"]

log = logging.getLogger("junkan.outbox")

_T = Message.__table__

#: One statement, compiled once, run by each worker for its own message (see `_mark_sending`).
_MARK_SENDING = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.state == "pending", _T.c.lease_owner == bindparam("b_owner"))
    .values(state="sending", sending_at=bindparam("b_wall"), attempts=_T.c.attempts + 1,
            lease_until=bindparam("b_until"), updated_at=bindparam("b_wall"),
            subject=bindparam("b_subject"), body_text=bindparam("b_text"), body_html=bindparam("b_html"),
            template_name=bindparam("b_tname"), template_version=bindparam("b_tver"),
            advertising=bindparam("b_adv"), ref_code=bindparam("b_ref"), partner_name=bindparam("b_partner"))
    .returning(_T.c.id)
)


def _noop_hook(step: str, ids: Sequence[str]) -> None:
    return None


class OutboxSender:
    """One send run. Not reusable across runs; thread-safe only where noted (the worker side)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        backend: MailBackend | None = None,
        renderer: NoticeRenderer | None = None,
        now: datetime | None = None,
        clock: Callable[[], datetime] = utcnow,
        due_by: datetime | None = None,
        kinds: Sequence[str] = NOTICE_KINDS,
        chunk_size: int | None = None,
        lease: timedelta | None = None,
        heartbeat_s: float = 30.0,
        owner: str | None = None,
        hook: Hook | None = None,
        max_consecutive_retries: int | None = None,
        max_consecutive_unknown: int | None = None,
        windowed: bool = True,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self._own_backend = backend is None
        self.backend = backend or build_backend(settings)
        self.renderer = renderer or NoticeRenderer(settings)
        self.fixed_now = now
        self.clock = clock
        self.due_by = due_by
        self.kinds = tuple(kinds)
        # Candidates' mail leaves only inside the sending window; internal mail (the monthly report to
        # the employer's staff) whenever its run happens.
        self.windowed = windowed
        self.workers = max(1, settings.mail.workers)
        self.chunk_size = chunk_size or self.workers * 8
        self.lease = lease or lease_for(settings.mail)
        # Leases of rows waiting in the pool are checked every `heartbeat_s` (see LeaseKeeper).
        self.heartbeat_s = heartbeat_s
        self.owner = owner or new_owner()
        self.hook = hook or _noop_hook
        self.counts = SendCounts()
        self.leases = LeaseKeeper(engine, self.owner, self.lease, clock=clock, hook=self.hook)
        # Every unanswered send needs a person to settle it, so a provider that stops answering ends the
        # run after about one pool's worth of them.
        self.recorder = OutcomeRecorder(
            engine, self.counts, owner=self.owner, clock=clock, hook=self.hook,
            max_consecutive_retries=max_consecutive_retries or self.workers * 4,
            max_consecutive_unknown=max_consecutive_unknown or max(2, self.workers))
        # Finished sends, in completion order. (`concurrent.futures.wait` over every future in flight, once
        # per completion, cost more CPU than recording the outcomes.)
        self._finished: queue.SimpleQueue[Future[Outcome]] = queue.SimpleQueue()

    # -- clocks -----------------------------------------------------------------------------------------
    def send_moment(self) -> datetime:
        """When a mail would leave: the real clock, or the fixed moment a test stands at. The sending
        window is judged by it alone, whatever day the run chooses work for (docs/outbox.md)."""
        return self.fixed_now or self.clock()

    def business_now(self) -> datetime:
        """Work due by this moment is chosen: the run's `due_by` (an as_of re-run), else the send moment."""
        return self.due_by or self.send_moment()

    # -- public -----------------------------------------------------------------------------------------
    def run(self, *, dry_run: bool = False, limit: int | None = None) -> SendCounts:
        """One run. A live one through SendGrid or SMTP is refused with SampleIdentityError, before any
        message is claimed, while a sample sender identity, link secret or base URL is configured."""
        try:
            if not dry_run:
                refuse_sample_identity(self.settings, self.backend.name)
            return self._run(dry_run=dry_run, limit=limit)
        finally:
            if self._own_backend:
                self.backend.close()

    def _run(self, *, dry_run: bool, limit: int | None) -> SendCounts:
        if dry_run:
            return self._preview(limit)
        with session_scope(self.engine) as session:
            found = mark_stale_sending_unknown(session, wall=self.clock(), kinds=self.kinds)
        if found:
            self.counts.unknown += len(found)
            log.warning("outbox: %d message(s) left in 'sending' by an interrupted run marked unknown: %s",
                        len(found), ", ".join(found[:20]))
        if self._window_closed():
            self.counts.outside_window = True
            log.info("outbox: outside the sending window; nothing sent")
            return self.counts
        self._send_loop(limit)
        return self.counts

    # -- the loop ---------------------------------------------------------------------------------------
    def _send_loop(self, limit: int | None) -> None:
        inflight: dict[Future[Outcome], Prepared] = {}
        done_outcomes: list[Outcome] = []
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="outbox-send")
        remaining = limit
        try:
            while not self._stopped():
                if self._window_closed():
                    self.counts.outside_window = True
                    break
                size = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
                if size <= 0:
                    break
                prepared = self._claim_and_render(size)
                if prepared is None:
                    break
                if remaining is not None:
                    remaining -= len(prepared)
                self.leases.keep(list(inflight.values()))
                for p in prepared:
                    fut = pool.submit(self._send_one, p)
                    inflight[fut] = p
                    fut.add_done_callback(self._finished.put)
                # Keep one chunk queued behind the one on the wire; record what has finished meanwhile.
                while len(inflight) > self.chunk_size and not self._stopped():
                    done_outcomes.extend(self._collect(inflight, block=True))
                done_outcomes.extend(self._collect(inflight, block=False))
                if done_outcomes:
                    self.recorder.record(done_outcomes)
                    done_outcomes = []
            # Stopped (fatal, provider down, window closed) or drained: give back what never started.
            self._abandon_queued(inflight)
            while inflight:
                done_outcomes.extend(self._collect(inflight, block=True))
                self._abandon_queued(inflight)  # a stop noticed while draining spares what has not started
            if done_outcomes:
                self.recorder.record(done_outcomes)
                done_outcomes = []
        except BaseException:
            self._crash_cleanup(pool, inflight, done_outcomes)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        self.leases.release()

    def _window_closed(self) -> bool:
        return self.windowed and not in_send_window(self.send_moment(), self.settings.notice)

    def _stopped(self) -> bool:
        return self.counts.fatal or self.counts.provider_unavailable

    def _claim_and_render(self, size: int) -> list[Prepared] | None:
        """Claim, ask the gate and render; the rows stay `pending` (leased) until a worker marks each one
        `sending` just before its own provider call. None when nothing is left to claim."""
        with Session(self.engine, expire_on_commit=False) as session:
            ids = claim_batch(session, owner=self.owner, due_by=self.business_now(), wall=self.clock(),
                              limit=size, kinds=self.kinds, lease=self.lease)
            if not ids:
                return None
            self.counts.claimed += len(ids)
            rows = load_rows(session, ids, self.send_moment(), key=self.settings.retention.key_bytes(),
                             owner=self.owner)
            session.commit()  # end the read transaction: SQLite must start the write below afresh
            self.hook("claimed", [r.public_id for r in rows])
            # The send-time gate (junkan/outbox/gate.py) judges at the moment of sending.
            rows, blocked = self._gate(session, rows, self.send_moment())
            prepared: list[Prepared] = []
            for row in rows:
                try:
                    prepared.append(self.renderer.prepare(row))
                except Exception as exc:
                    # Values are data, never template code, so a render error is a template's (or the
                    # sender settings') fault: the notice stays pending for the run after the fix, the
                    # others go out, and the flow run ends Failed so that someone looks.
                    self.recorder.template_failure(session, row, exc)
            self.hook("rendered", [p.row.public_id for p in prepared])
            self.recorder.write_blocked(session, blocked, self.clock())
            session.commit()
        return prepared

    # -- the send-time gate ---------------------------------------------------------------------------------
    def _gate(self, session: Session, rows: list[NoticeRow],
              now: datetime) -> tuple[list[NoticeRow], list[tuple[NoticeRow, str, str]]]:
        """Ask the gate about the claimed chunk, in bulk, just before it is marked `sending`: the rows that
        may go (partner section dropped where `partner_info` is no longer current) and the blocked ones,
        which `_write_blocked` moves to `suppressed` / `cancelled` with the reason."""
        gated = gate_rows(session, rows, now, self.settings)
        session.commit()  # end the gate's read transaction too: SQLite must start the write afresh
        self.counts.partner_dropped += gated.partner_dropped
        # `_write_blocked` counts the blocked rows as suppressed / cancelled; here only their causes.
        self.counts.add_stopped(gated.reasons, totals=False)
        if gated.reasons:
            log.info("outbox: the send gate stopped %d message(s): %s", sum(gated.reasons.values()),
                     ", ".join(f"{r}={n}" for r, n in sorted(gated.reasons.items())))
        return gated.sendable, gated.blocked

    def _mark_sending(self, p: Prepared) -> bool:
        """Mark one row `sending` with its rendered content and commit, just before its provider call.
        Only a row still pending and still ours: a lease lost to an expiry is never sent twice. False when
        it is not ours any more (then it is not sent)."""
        wall = self.clock()
        with self.engine.begin() as conn:
            marked = conn.execute(_MARK_SENDING, {
                "b_id": p.row.message_id, "b_owner": self.owner, "b_wall": wall,
                "b_until": wall + self.lease, "b_subject": p.mail.subject, "b_text": p.mail.text,
                "b_html": p.mail.html, "b_tname": p.template_name, "b_tver": p.template_version,
                "b_adv": p.row.advertising, "b_ref": p.row.ref_code, "b_partner": p.row.partner_name,
            }).scalar()
        return marked is not None

    # -- worker side (thread-safe: its own session for the mark, no shared state) ----------------------
    def _send_one(self, prepared: Prepared) -> Outcome:
        """Mark the row `sending`, then hand it to the provider: a crash leaves at most this one row
        uncertain per worker."""
        try:
            if not self._mark_sending(prepared):
                return Outcome(prepared, None, marked=False)
        except Exception as exc:
            return Outcome(prepared, None, marked=False, mark_error=exc)
        outcome = self._call_provider(prepared)
        # Written at once, before this worker takes its next message, so that a crash leaves only the
        # message on the wire uncertain, not the ones that came back and wait to be recorded.
        try:
            self.recorder.write([outcome], self.clock())
            outcome.written = True
        except Exception as exc:  # the main thread writes it again, and meets the error itself if it lasts
            log.warning("outbox: recording the outcome of %s failed (%s); recorded with its chunk",
                        prepared.row.public_id, type(exc).__name__)
        return outcome

    def _call_provider(self, prepared: Prepared, *, dry_run: bool = False) -> Outcome:
        pid = prepared.row.public_id
        try:
            if not dry_run:
                self.hook("marked_sending", [pid])
            self.hook("provider_call", [pid])
            result = self.backend.send(prepared.mail, dry_run=dry_run)
            self.hook("provider_returned", [pid])
        except Exception as exc:
            return Outcome(prepared, None, exc)
        return Outcome(prepared, result)

    def _collect(self, inflight: dict[Future[Outcome], Prepared], *, block: bool,
                 after_error: bool = False) -> list[Outcome]:
        """Outcomes of the sends that finished (waiting for one when `block`). Futures cancelled and already
        dropped from `inflight` by `_abandon_queued` also pass through the queue; they are skipped. A mark
        that failed raises its database error, unless the run is already cleaning up after one."""
        if not inflight:
            return []
        done: list[Future[Outcome]] = []
        while block:
            self.leases.keep(list(inflight.values()))
            try:
                done.append(self._finished.get(timeout=self.heartbeat_s))
                break
            except queue.Empty:
                continue
        while True:
            try:
                done.append(self._finished.get_nowait())
            except queue.Empty:
                break
        out: list[Outcome] = []
        for fut in done:
            if inflight.pop(fut, None) is None or fut.cancelled():
                continue
            outcome = fut.result()
            if outcome.mark_error is not None and not after_error:
                raise outcome.mark_error
            if not outcome.marked:
                continue  # never handed over: still pending, its lease released when the run ends
            out.append(outcome)
            self.recorder.observe(outcome)
        return out

    def _abandon_queued(self, inflight: dict[Future[Outcome], Prepared]) -> None:
        """Cancel sends the pool has not started; those rows were never marked, so they are still
        `pending` and their leases are released when the run ends."""
        if not self._stopped() and not self.counts.outside_window:
            return
        for f in list(inflight):
            if f.cancel():
                inflight.pop(f)

    def _crash_cleanup(self, pool: ThreadPoolExecutor, inflight: dict[Future[Outcome], Prepared],
                       done: list[Outcome]) -> None:
        """Best effort after an exception: sends not started are cancelled (their rows were never marked,
        so they are still `pending`), what finished is recorded, the leases on pending rows released.
        Anything else stays `sending` and becomes `unknown` in the next run."""
        try:
            for f in list(inflight):
                if f.cancel():
                    inflight.pop(f)
            pool.shutdown(wait=True, cancel_futures=True)
            done.extend(self._collect(inflight, block=False, after_error=True))
            if done:
                self.recorder.record(done)
            self.leases.release()
        except Exception as exc:  # the original error matters more; the next run cleans up
            log.error("outbox: cleanup after an error failed too (%s); the next run will review",
                      type(exc).__name__)

    # -- dry run ----------------------------------------------------------------------------------------
    def _preview(self, limit: int | None) -> SendCounts:
        """Render every due pending message and hand it to the backend in dry-run mode (SendGrid sandbox);
        claims nothing and changes no state."""
        from junkan.outbox.render import due_rows_query, rows_from

        if not in_send_window(self.send_moment(), self.settings.notice):
            self.counts.outside_window = True
        with Session(self.engine) as session:
            stmt = due_rows_query(self.business_now(), self.kinds)
            if limit is not None:
                stmt = stmt.limit(limit)
            rows = rows_from(session, session.execute(stmt), self.settings.retention.key_bytes())
        self.preview_rows(rows)
        return self.counts

    def preview_rows(self, rows: list[NoticeRow]) -> None:
        prepared: list[Prepared] = []
        for row in rows:
            why = blocker(row)
            if why is not None:
                if why[0] == "suppressed":
                    self.counts.suppressed += 1
                else:
                    self.counts.cancelled += 1
                continue
            try:
                prepared.append(self.renderer.prepare(strip_partner_if_withdrawn(row, self.settings)))
            except Exception as exc:
                self.counts.template_error += 1
                self.counts.errors["template"] = self.counts.errors.get("template", 0) + 1
                log.error("outbox: dry run: rendering %s failed (%s)", row.public_id, type(exc).__name__)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="outbox-preview") as pool:
            for outcome in pool.map(lambda p: self._call_provider(p, dry_run=True), prepared):
                if outcome.result is not None and outcome.result.status == "accepted":
                    self.counts.previewed += 1
                else:
                    self.counts.failed += 1


def send_due(engine: Engine, settings: Settings, *, dry_run: bool = False, **kwargs: Any) -> SendCounts:
    """Convenience wrapper: one send run with default backend and renderer."""
    limit = kwargs.pop("limit", None)
    return OutboxSender(engine, settings, **kwargs).run(dry_run=dry_run, limit=limit)
