"""Sending through the outbox with the file backend: window, last-moment checks, crash leftovers, review."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.types import utcnow
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.outbox.review import ReviewError, list_messages, resolve
from junkan.outbox.sender import OutboxSender
from tests.integration._outbox_data import SEND_NOW, add_application, add_consent, jst, suppress
from tests.integration._outbox_steps import change_status, rejected_ids


def _enqueue(engine: Engine, settings: Settings, now=SEND_NOW) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, now)


def _send(engine: Engine, settings: Settings, now=SEND_NOW, **kw):  # type: ignore[no-untyped-def]
    return OutboxSender(engine, settings, now=now, **kw).run()


def _by_app(engine: Engine) -> dict[int, Message]:
    with session_scope(engine) as s:
        return {m.application_id: m for m in s.scalars(select(Message))}  # type: ignore[misc]


def _eml(settings: Settings, public_id: str) -> str:
    path = Path(settings.mail.outbox_dir) / f"msg-{public_id}.eml"
    return path.read_bytes().decode("utf-8", errors="replace")


def _sent_files(settings: Settings) -> list[Path]:
    return sorted(Path(settings.mail.outbox_dir).glob("*.eml"))


@pytest.mark.parametrize(
    "moment",
    [
        jst(2026, 11, 18, 8, 59),  # before the window
        jst(2026, 11, 18, 18, 0),  # window end is exclusive
        jst(2026, 11, 21, 10, 0),  # Saturday
        jst(2026, 11, 23, 10, 0),  # 勤労感謝の日 (Monday holiday)
    ],
)
def test_nothing_is_sent_outside_the_window(engine: Engine, settings: Settings, moment) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        add_application(s)
    _enqueue(engine, settings)
    counts = _send(engine, settings, now=moment)
    assert counts.outside_window and counts.sent == 0 and counts.claimed == 0
    assert _sent_files(settings) == []
    assert next(iter(_by_app(engine).values())).state == "pending"


def test_sends_once_records_template_and_content_and_a_second_run_sends_nothing(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        for _ in range(5):
            add_application(s)
    _enqueue(engine, settings)
    first = _send(engine, settings)
    assert (first.claimed, first.sent, first.failed, first.unknown) == (5, 5, 0, 0)
    second = _send(engine, settings)
    assert (second.claimed, second.sent) == (0, 0)
    msgs = list(_by_app(engine).values())
    assert len(_sent_files(settings)) == 5
    for m in msgs:
        assert m.state == "accepted" and m.provider_message_id and m.accepted_at and m.attempts == 1
        assert m.template_name == "ja/rejection" and m.template_version and len(m.template_version) >= 8
        assert m.subject and m.body_text and m.body_html
        assert m.lease_owner is None and m.lease_until is None


def test_partner_link_only_with_consent_and_removed_when_consent_is_withdrawn_before_send(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        with_consent = add_application(s, partner_consent=True).id
        without = add_application(s).id
        revokes = add_application(s, partner_consent=True)
        revokes_id, revokes_cand = revokes.id, revokes.candidate_id
    _enqueue(engine, settings)
    with session_scope(engine) as s:
        add_consent(s, revokes_cand, False, jst(2026, 11, 18, 9, 30))
    _send(engine, settings)
    msgs = _by_app(engine)
    base = settings.links.public_base_url
    assert f"{base}/r/" in _eml(settings, msgs[with_consent].public_id)
    assert msgs[with_consent].advertising and msgs[with_consent].ref_code
    for app_id in (without, revokes_id):
        eml = _eml(settings, msgs[app_id].public_id)
        assert f"{base}/r/" not in eml and "careerrelay" not in eml
        assert not msgs[app_id].advertising and msgs[app_id].ref_code is None
        assert "careerrelay" not in (msgs[app_id].body_text or "")
    # Every notice carries a working opt-out header, advertising or not.
    assert f"{base}/u/" in _eml(settings, msgs[without].public_id)


def test_suppression_added_after_enqueue_is_honoured_just_before_sending(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_application(s, email="late@example.com")
        ok = add_application(s).id
    _enqueue(engine, settings)
    with session_scope(engine) as s:
        suppress(s, "late@example.com", reason="complaint")
    counts = _send(engine, settings)
    assert (counts.sent, counts.suppressed) == (1, 1)
    states = {app: m.state for app, m in _by_app(engine).items()}
    assert states[ok] == "accepted" and sorted(states.values()) == ["accepted", "suppressed"]
    assert len(_sent_files(settings)) == 1


def test_unreject_or_hire_between_enqueue_and_send_cancels(engine: Engine, settings: Settings) -> None:
    hired, unrejected = rejected_ids(engine, 2)
    _enqueue(engine, settings)
    change_status(engine, {hired: "hired", unrejected: "in_process"})
    counts = _send(engine, settings)
    assert (counts.sent, counts.cancelled) == (0, 2)
    assert {m.state for m in _by_app(engine).values()} == {"cancelled"}
    assert _sent_files(settings) == []


def test_crash_leftover_in_sending_becomes_unknown_and_is_never_resent(
    engine: Engine, settings: Settings
) -> None:
    stale, live = rejected_ids(engine, 2)
    _enqueue(engine, settings)
    wall = utcnow()
    with session_scope(engine) as s:
        s.execute(update(Message).where(Message.application_id == stale)
                  .values(state="sending", lease_owner="dead:1", lease_until=wall - timedelta(minutes=1)))
        s.execute(update(Message).where(Message.application_id == live)
                  .values(state="sending", lease_owner="other:2", lease_until=wall + timedelta(minutes=10)))
    counts = _send(engine, settings)
    assert (counts.unknown, counts.sent) == (1, 0)
    msgs = _by_app(engine)
    assert msgs[stale].state == "unknown" and msgs[stale].last_error_code == "crash"
    assert msgs[live].state == "sending"  # another sender's live lease is left alone
    assert _sent_files(settings) == []


def test_operator_resolves_unknown_messages(engine: Engine, settings: Settings) -> None:
    went_out, did_not = rejected_ids(engine, 2)
    _enqueue(engine, settings)
    with session_scope(engine) as s:
        s.execute(update(Message).values(state="unknown"))
    ids = {app: m.public_id for app, m in _by_app(engine).items()}
    with session_scope(engine) as s:
        listed = list_messages(s, states=["unknown"])
        assert sorted(m.public_id for m in listed) == sorted(ids.values())
        assert resolve(s, ids[went_out], "sent") == "accepted"
        assert resolve(s, ids[did_not], "resend") == "pending"
        with pytest.raises(ReviewError):
            resolve(s, ids[went_out], "resend")  # no longer unknown
        with pytest.raises(ReviewError):
            resolve(s, "no-such-id", "sent")
    counts = _send(engine, settings)
    assert counts.sent == 1
    msgs = _by_app(engine)
    assert msgs[went_out].resolution == "sent" and msgs[went_out].state == "accepted"
    assert msgs[did_not].resolution == "resend" and msgs[did_not].state == "accepted"
    assert [p.name for p in _sent_files(settings)] == [f"msg-{ids[did_not]}.eml"]


def test_cli_lists_unknown_without_personal_data_and_resolves(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from junkan.cli.outbox import app

    with session_scope(engine) as s:
        add_application(s, email="secret.person@example.com", name="秘密 花子")
    _enqueue(engine, settings)
    with session_scope(engine) as s:
        s.execute(update(Message).values(state="unknown", last_error_code="crash"))
    (msg,) = _by_app(engine).values()
    monkeypatch.setenv("JUNKAN_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    out = runner.invoke(app, ["list", "--state", "unknown"])
    assert out.exit_code == 0, out.output
    assert msg.public_id in out.output and "rejection" in out.output and "crash" in out.output
    assert "secret.person" not in out.output and "秘密" not in out.output
    bad = runner.invoke(app, ["list", "--state", "nonsense"])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["resolve", msg.public_id]).exit_code == 2  # neither flag
    done = runner.invoke(app, ["resolve", msg.public_id, "--sent"])
    assert done.exit_code == 0 and "accepted" in done.output
    again = runner.invoke(app, ["resolve", msg.public_id, "--resend"])
    assert again.exit_code == 1 and "only 'unknown'" in again.output


def test_dry_run_renders_and_changes_nothing(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_application(s, partner_consent=True)
    _enqueue(engine, settings)
    counts = OutboxSender(engine, settings, now=SEND_NOW).run(dry_run=True)
    assert counts.previewed == 1 and counts.sent == 0
    (msg,) = _by_app(engine).values()
    assert msg.state == "pending" and msg.subject is None and msg.attempts == 0
    assert _sent_files(settings) == []
    assert (Path(settings.mail.outbox_dir) / "dry-run" / f"msg-{msg.public_id}.eml").exists()


def test_a_run_stops_claiming_when_the_window_closes(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        for _ in range(6):
            add_application(s)
    _enqueue(engine, settings)
    live = {"now": jst(2026, 11, 18, 17, 59, 30)}

    def close_window(step: str, _ids) -> None:  # type: ignore[no-untyped-def]
        if step == "recorded":
            live["now"] = jst(2026, 11, 18, 18, 0)

    # No fixed `now`: the sender reads the live clock before every chunk.
    counts = OutboxSender(engine, settings, clock=lambda: live["now"], chunk_size=2, hook=close_window).run()
    assert counts.outside_window and 2 <= counts.sent < 6
    states = sorted(m.state for m in _by_app(engine).values())
    assert states.count("accepted") == counts.sent and states.count("pending") == 6 - counts.sent
    assert all(m.lease_owner is None for m in _by_app(engine).values())


def test_a_broken_template_keeps_its_notices_pending_and_the_others_go_out(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    from junkan.db.models import Job

    with session_scope(engine) as s:
        broken_app = add_application(s)
        add_application(s)
        job_id = s.get(Job, broken_app.job_id).external_id  # type: ignore[union-attr]
        broken_id = broken_app.id
    overrides = tmp_path / "templates"
    job_dir = overrides / "jobs" / job_id / "ja"
    job_dir.mkdir(parents=True)
    (job_dir / "rejection.txt").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    settings.mail.template_dir = overrides
    _enqueue(engine, settings)
    counts = _send(engine, settings)
    assert counts.template_error and counts.sent == 1
    broken = _by_app(engine)[broken_id]
    assert broken.state == "pending" and broken.last_error_code == "template" and broken.lease_owner is None
    assert "sandbox" in (broken.last_error or "") or "unsafe" in (broken.last_error or "")
    (job_dir / "rejection.txt").unlink()  # the fix
    again = _send(engine, settings)
    assert (again.sent, again.template_error) == (1, False)
    assert _by_app(engine)[broken_id].state == "accepted"


def test_eml_names_never_start_with_a_dash(engine: Engine, settings: Settings) -> None:
    (app_id,) = rejected_ids(engine, 1)
    _enqueue(engine, settings)
    with session_scope(engine) as s:
        # Random ids start with "-" one time in 64; a file named like that reads as an option to tools.
        s.execute(update(Message).where(Message.application_id == app_id).values(public_id="-dashed-id"))
    OutboxSender(engine, settings, now=SEND_NOW).run(dry_run=True)
    assert _send(engine, settings).sent == 1
    assert [p.name for p in _sent_files(settings)] == ["msg--dashed-id.eml"]
    assert [p.name for p in (Path(settings.mail.outbox_dir) / "dry-run").iterdir()] == ["msg--dashed-id.eml"]


def test_resolve_sent_dates_acceptance_at_the_send_not_at_the_review(
    engine: Engine, settings: Settings
) -> None:
    with_send, without = rejected_ids(engine, 2)
    _enqueue(engine, settings)
    handed_over = utcnow() - timedelta(hours=3)
    with session_scope(engine) as s:
        s.execute(update(Message).where(Message.application_id == with_send)
                  .values(state="unknown", sending_at=handed_over))
        s.execute(update(Message).where(Message.application_id == without).values(state="unknown"))
    ids = {app: m.public_id for app, m in _by_app(engine).items()}
    reviewed = utcnow()
    with session_scope(engine) as s:
        resolve(s, ids[with_send], "sent", now=reviewed)
        resolve(s, ids[without], "sent", now=reviewed)
    msgs = _by_app(engine)
    assert msgs[with_send].accepted_at == handed_over and msgs[with_send].resolved_at == reviewed
    assert msgs[without].accepted_at == reviewed


def test_an_unexpected_backend_error_is_stored_without_addresses(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_application(s, email="taro.secret@example.com")
    _enqueue(engine, settings)

    def hook(step: str, ids) -> None:  # type: ignore[no-untyped-def]
        if step == "provider_call":
            raise RuntimeError("relay said no to taro.secret@example.com")

    counts = _send(engine, settings, hook=hook)
    assert counts.unknown == 1
    (msg,) = _by_app(engine).values()
    assert msg.state == "unknown" and msg.last_error_code == "exception"
    assert msg.last_error == "RuntimeError: relay said no to <redacted>"
    with session_scope(engine) as s:
        (listed,) = list_messages(s, states=["unknown"])
    assert "taro.secret" not in (listed.error or "")


def test_default_lease_outlasts_a_send_that_uses_its_whole_retry_budget(
    engine: Engine, settings: Settings
) -> None:
    from junkan.outbox.claim import lease_for, send_budget

    mail = settings.mail
    worst = timedelta(seconds=mail.rate_limit_retries * mail.rate_limit_max_wait_s
                      + (1 + mail.max_retries + mail.rate_limit_retries) * mail.timeout_s)
    assert send_budget(mail) >= worst
    assert lease_for(mail) >= 2 * worst + timedelta(minutes=5)
    patient = mail.model_copy(update={"rate_limit_retries": 40})
    assert lease_for(patient) - lease_for(mail) >= timedelta(seconds=2 * 30 * mail.rate_limit_max_wait_s)
    assert OutboxSender(engine, settings).lease == lease_for(mail)


def test_a_queued_chunk_keeps_its_lease_while_a_slow_send_holds_the_pool(
    engine: Engine, settings: Settings
) -> None:
    import threading

    with session_scope(engine) as s:
        add_application(s)
        add_application(s)
    _enqueue(engine, settings)
    one_worker = settings.model_copy(update={"mail": settings.mail.model_copy(update={"workers": 1})})
    wall = [utcnow()]
    marked, extended, started, release = (threading.Event() for _ in range(4))
    seen: dict[str, int] = {}
    extended_ids: list[str] = []

    def hook(step: str, ids) -> None:  # type: ignore[no-untyped-def]
        seen[step] = seen.get(step, 0) + 1
        if step == "rendered" and seen[step] == 2:
            marked.set()  # the second chunk is claimed and rendered (still `pending`), queued
        elif step == "provider_call" and seen[step] == 1:
            started.set()
            assert release.wait(30)  # a send stuck in 429 waits and retries
        elif step == "lease_extended":
            extended_ids.extend(ids)
            extended.set()

    lease = timedelta(minutes=20)
    sender = OutboxSender(engine, one_worker, now=SEND_NOW, clock=lambda: wall[0], chunk_size=1,
                          lease=lease, heartbeat_s=0.01, hook=hook)
    result: list[object] = []
    runner = threading.Thread(target=lambda: result.append(sender.run()))
    runner.start()
    try:
        assert started.wait(30) and marked.wait(30)
        wall[0] += lease + timedelta(minutes=1)  # the original leases have run out
        assert extended.wait(30)
        assert sorted(extended_ids) == sorted(m.public_id for m in _by_app(engine).values())
        # A concurrent run does not take the rows still being sent for crash leftovers.
        other = OutboxSender(engine, settings, now=SEND_NOW, clock=lambda: wall[0]).run()
        assert (other.unknown, other.claimed) == (0, 0)
        # The one on the wire is `sending`; the queued one stays `pending` until its worker takes it.
        assert sorted(m.state for m in _by_app(engine).values()) == ["pending", "sending"]
        assert all(m.lease_until is not None and m.lease_until > wall[0] for m in _by_app(engine).values())
    finally:
        release.set()
        runner.join(30)
    (counts,) = result
    assert counts.sent == 2  # type: ignore[attr-defined]
    assert all(m.state == "accepted" for m in _by_app(engine).values())
    assert len(_sent_files(settings)) == 2
