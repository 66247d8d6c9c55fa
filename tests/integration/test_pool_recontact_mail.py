"""`auto` mode: one re-contact mail per person per run through the outbox, consent, holdout, dry run."""

from __future__ import annotations

import email
import stat
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Candidate, Message
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.outbox.recontact import enqueue_recontact
from junkan.pool.recontact import match_and_store, send
from tests.integration._pool_data import AS_OF, CLOCK, NOW, add_consent, add_job, add_member, pool_settings


def auto(settings: Settings, tmp_path: Path, **extra: object) -> Settings:
    return pool_settings(settings, **{"mode": "auto", "holdout_share": 0.0,
                                      "shortlist_dir": tmp_path / "shortlists", **extra})


def mails(directory: Path) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(directory.glob("*.eml"))]


def _jobs(s: Session, n: int) -> list[int]:
    titles = ["バックエンドエンジニア", "サーバーサイドエンジニア", "Goエンジニア", "APIエンジニア"]
    return [add_job(s, titles[k], required=["Go", "SQL"], opened_at=NOW - timedelta(days=k + 1),
                    location="東京都").id for k in range(n)]


def _go_sql_members(engine: Engine, openings: int, *members: dict[str, Any]) -> list[Candidate]:
    """That many recent openings asking for Go and SQL, and pool members skilled in both: one for each
    set of add_member fields given, or a single plain one."""
    with session_scope(engine) as s:
        _jobs(s, openings)
        return [add_member(s, skills=["Go", "SQL"], **fields) for fields in members or ({},)]


def test_a_person_matched_to_several_openings_gets_one_mail_listing_three(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cfg = auto(settings, tmp_path)
    (cand,) = _go_sql_members(engine, 4)
    out = match_and_store(engine, cfg, CLOCK)
    assert out.counts["matches"] == 4 and out.counts["mails_enqueued"] == 1
    with Session(engine) as s:
        messages = s.scalars(select(Message)).all()
        linked = s.scalars(select(PoolMatch).where(PoolMatch.message_id.is_not(None))).all()
    assert len(messages) == 1
    message = messages[0]
    assert message.kind == "recontact" and message.advertising and message.candidate_id == cand.id
    assert message.logical_key.startswith("match:") and message.logical_key.endswith(":recontact")
    assert len(linked) == 3

    sent = send(engine, cfg, CLOCK)
    assert sent["mails_sent"] == 1
    (mail,) = mails(settings.mail.outbox_dir)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count("/r/") == 3
    assert "APIエンジニア" not in text  # the fourth, weakest match is not listed
    assert "送信者：株式会社サンプル" in text and "所在地：〒100-0001" in text and "/u/" in text
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "新しい求人のご案内" in mail["Subject"]
    with Session(engine) as s:
        assert s.get(Message, message.id).state == "accepted"


def test_only_people_with_a_current_recontact_consent_are_mailed(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _go_sql_members(engine, 1, {}, {"recontact": None})  # the second: pooled, never asked about re-contact
    out = match_and_store(engine, auto(settings, tmp_path), CLOCK)
    assert out.counts["matched_people"] == 2
    assert out.counts["mails_enqueued"] == 1 and out.counts["no_recontact_consent"] == 1


def test_consent_withdrawn_after_enqueue_cancels_the_mail(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cfg = auto(settings, tmp_path)
    (cand,) = _go_sql_members(engine, 1)
    match_and_store(engine, cfg, CLOCK)
    with session_scope(engine) as s:
        add_consent(s, cand.id, "recontact", False, at=NOW + timedelta(hours=1))
    sent = send(engine, cfg, RunClock.fixed(NOW + timedelta(hours=2), as_of=AS_OF))
    assert sent["mails_sent"] == 0 and sent["mails_cancelled"] == 1
    assert mails(settings.mail.outbox_dir) == []


def test_holdout_is_recorded_with_the_matches_and_not_mailed(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cfg = auto(settings, tmp_path, holdout_share=0.5)
    _go_sql_members(engine, 1, *({} for _ in range(16)))
    preview = match_and_store(engine, cfg, CLOCK, dry_run=True)
    out = match_and_store(engine, cfg, CLOCK)
    with Session(engine) as s:
        rows = s.scalars(select(PoolMatch)).all()
        mailed = set(s.scalars(select(Message.candidate_id)))
    held = {m.candidate_id for m in rows if m.holdout}
    assert 0 < len(held) < 16
    assert mailed == {m.candidate_id for m in rows} - held
    assert all(m.message_id is None for m in rows if m.holdout)
    assert out.counts["held_out"] == len(held) == preview.counts["held_out"]  # deterministic per run


def test_shortlist_mode_never_enqueues_mail(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    _go_sql_members(engine, 2)
    out = match_and_store(engine, pool_settings(settings, shortlist_dir=tmp_path / "sl"), CLOCK)
    assert out.counts["matches"] == 2 and out.counts["shortlists"] == 2
    assert "mails_enqueued" not in out.counts
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    assert out.csv_path and Path(out.csv_path).read_bytes().startswith(b"PK")  # an Excel workbook (zip)
    assert stat.S_IMODE(Path(out.csv_path).stat().st_mode) == 0o600  # the shortlist names people


def test_dry_run_previews_the_mails_and_writes_nothing(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _go_sql_members(engine, 2, {}, {"locale": "en"})
    out = match_and_store(engine, auto(settings, tmp_path), CLOCK, dry_run=True)
    assert out.run_id is None
    assert out.counts["mails_enqueued"] == 2 and out.counts["mails_previewed"] == 2
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        assert s.scalar(select(func.count()).select_from(MatchRun)) == 0
        assert s.scalar(select(func.count()).select_from(PoolMatch)) == 0
    previews = mails(settings.mail.outbox_dir / "dry-run")
    assert sorted(m["Subject"] for m in previews) == ["New openings at 株式会社サンプル",
                                                     "【株式会社サンプル】新しい求人のご案内"]
    # The real run afterwards still finds the openings new.
    assert match_and_store(engine, auto(settings, tmp_path), CLOCK).counts["new_openings"] == 2


def test_enqueueing_a_run_twice_adds_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    cfg = auto(settings, tmp_path)
    _go_sql_members(engine, 2)
    out = match_and_store(engine, cfg, CLOCK)
    assert out.run_id is not None
    with session_scope(engine) as s:
        again = enqueue_recontact(s, cfg, out.run_id, NOW)
    assert again.enqueued == 0 and again.already == 1
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_a_person_mailed_is_not_matched_again_within_90_days(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cfg = auto(settings, tmp_path)
    _go_sql_members(engine, 1)
    match_and_store(engine, cfg, CLOCK)
    with session_scope(engine) as s:
        add_job(s, "Goエンジニア", required=["Go"], opened_at=NOW + timedelta(days=1))
    three_days_on = RunClock.fixed(NOW + timedelta(days=3), as_of=AS_OF + timedelta(days=3))
    later = match_and_store(engine, cfg, three_days_on)
    assert later.counts["new_openings"] == 1
    assert later.counts["matches"] == 0 and later.counts["excluded_recently_contacted"] == 1
