"""`junkan privacy export / erase / due` on the real database; output never echoes the address."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from junkan.cli.privacy import app
from junkan.config import Settings
from junkan.consent.suppressed import hash_plain_rows, suppressed_among
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Consent, Suppression
from junkan.pool.refs import candidate_ref
from junkan.privacy.copy_requests import request_copy
from tests.privacy_support import KEY, hashed

runner = CliRunner()
EMAIL = "taro@example.jp"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    decided = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        cand = Candidate(email_key=EMAIL, display_name="山田 太郎")
        pooled = Candidate(email_key="pool@example.jp")
        s.add_all([cand, pooled])
        s.flush()
        for n, c in enumerate((cand, pooled)):
            s.add(Application(source="csv", external_id=f"A{n}", candidate_id=c.id, status="rejected",
                              applied_at=decided, decided_at=decided, content_hash="x"))
        # Ends on 5 July 2026 (local): a renewal mail is due from 28 June with the default 7 days.
        s.add(Consent(candidate_id=pooled.id, purpose="talent_pool", granted=True, source="csv",
                      recorded_at=decided, expires_at=datetime(2026, 7, 5, 3, 0, tzinfo=UTC)))


def test_due_lists_anonymisations_by_rule_and_renewals(env: None) -> None:
    early = runner.invoke(app, ["due", "--as-of", "2026-06-30"])
    assert early.exit_code == 0, early.output
    assert "anonymise (rejected_days): 0" in early.output and "consent renewals to send: 1" in early.output
    assert "(renewal mails are off: JUNKAN_CONSENT__RENEWAL_ENABLED)" in early.output  # the default
    late = runner.invoke(app, ["due", "--as-of", "2026-07-09"])
    assert "anonymise (rejected_days): 1" in late.output and "anonymise (pool_expired): 1" in late.output
    bad = runner.invoke(app, ["due", "--as-of", "9 July"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_export_then_erase(env: None, engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "taro.json"
    exported = runner.invoke(app, ["export", "--email", "TARO@example.jp", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert EMAIL not in exported.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # everything about the person: owner only
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["tables"]["candidate"][0]["display_name"] == "山田 太郎"
    assert [r["external_id"] for r in data["tables"]["application"]] == ["A0"]

    refused = runner.invoke(app, ["erase", "--email", EMAIL, "--reason", "山田 太郎 asked"])
    assert refused.exit_code == 2 and "personal data" in refused.output
    declined = runner.invoke(app, ["erase", "--email", EMAIL, "--reason", "ticket 77"], input="n\n")
    assert declined.exit_code == 1 and "nothing erased" in declined.output
    erased = runner.invoke(app, ["erase", "--email", EMAIL, "--reason", "ticket 77"], input="y\n")
    assert erased.exit_code == 0, erased.output
    # The records are listed by our ids and the key that matched them before the question.
    listed = erased.output.split("erase these records?")[0]
    assert "matched 1 candidate(s):" in listed and ": email" in listed
    assert "erased 1 candidate(s)" in erased.output and EMAIL not in erased.output
    with session_scope(engine) as s:
        erased_row = s.execute(
            select(Candidate.email_key, Candidate.display_name)
            .join(Application, Application.candidate_id == Candidate.id)
            .where(Application.external_id == "A0")).one()
        assert tuple(erased_row) == (None, None)


def test_suppressions_from_before_the_migration_are_matched_then_hashed(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Suppression(email_key="legacy@example.jp", reason="bounce", source="sendgrid"))
        s.add(Suppression(email_key="twice@example.jp", reason="bounce", source="sendgrid"))
        s.add(Suppression(email_hash=hashed("twice@example.jp"), reason="unsubscribe", source="unsubscribe"))
    with session_scope(engine) as s:
        assert suppressed_among(s, ["legacy@example.jp", "other@example.jp"], KEY) == {"legacy@example.jp"}
        assert hash_plain_rows(s, KEY) == 2
    with session_scope(engine) as s:
        rows = s.execute(select(Suppression.email_key, Suppression.email_hash, Suppression.reason)).all()
        assert sorted(rows, key=lambda r: r.reason) == sorted([
            (None, hashed("legacy@example.jp"), "bounce"), (None, hashed("twice@example.jp"), "unsubscribe"),
        ], key=lambda r: r[2])
        assert suppressed_among(s, ["legacy@example.jp", "twice@example.jp"], KEY) == {
            "legacy@example.jp", "twice@example.jp"}


def test_erase_by_phone_lists_each_record_and_key_then_erases_them_together(
    env: None, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        # The same person under a mistyped address: only the phone ties the two records together.
        ids = []
        for n, address in enumerate(("share1@example.jp", "share1@exmaple.jp")):
            cand = Candidate(email_key=address, display_name="共有 一郎", phone_key="+819011112222")
            s.add(cand)
            s.flush()
            s.add(Application(source="csv", external_id=f"S{n}", candidate_id=cand.id, status="rejected",
                              content_hash="x"))
            ids.append(cand.id)

    exported = runner.invoke(app, ["export", "--phone", "090-1111-2222", "--out", str(tmp_path / "s.json")])
    assert exported.exit_code == 0, exported.output
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in data["tables"]["candidate"]) == ids
    assert {(m["table"], m["id"], tuple(m["matched_by"])) for m in data["matched"]} >= {
        ("candidate", ids[0], ("phone",)), ("candidate", ids[1], ("phone",))}

    erased = runner.invoke(app, ["erase", "--phone", "090-1111-2222", "--email", "share1@example.jp",
                                 "--yes"])
    assert erased.exit_code == 0, erased.output
    assert f"candidate {ids[0]}: email, phone" in erased.output
    assert f"candidate {ids[1]}: phone" in erased.output and "erased 2 candidate(s)" in erased.output
    for secret in ("share1@", "共有", "090", "+81"):
        assert secret not in erased.output
    with session_scope(engine) as s:
        assert s.scalars(select(Candidate.display_name).where(Candidate.id.in_(ids))).all() == [None, None]


def test_keys_that_name_no_one_are_refused_in_one_line(env: None, tmp_path: Path) -> None:
    out = str(tmp_path / "x.json")
    for args in (["export", "--email", "", "--out", out], ["erase", "--phone", "call me"], ["erase"],
                 ["export", "--out", out]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "x.json").exists()


def test_copy_requests_from_the_preference_page_are_listed_by_ref_exported_and_marked_sent(
    env: None, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        taro = s.scalars(select(Candidate).where(Candidate.email_key == EMAIL)).one()
        assert request_copy(s, taro.id, at=datetime(2026, 12, 1, tzinfo=UTC), source="preference_page")
        taro_id = taro.id
    listed = runner.invoke(app, ["copy-requests"])
    assert listed.exit_code == 0, listed.output
    ref = candidate_ref(taro_id, Settings(_env_file=None).links)  # type: ignore[call-arg]
    assert "1 open request(s)" in listed.output and ref in listed.output
    assert EMAIL not in listed.output and "山田" not in listed.output
    # The operator writes the copy with the ref the list shows, sends it, and marks the request done.
    out = tmp_path / "copy.json"
    exported = runner.invoke(app, ["export", "--candidate-ref", ref, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["tables"]["candidate"][0]["id"] == taro_id
    (request_id,) = [line.split()[0] for line in listed.output.splitlines()[1:]]
    done = runner.invoke(app, ["copy-requests", "--done", request_id])
    assert done.exit_code == 0 and "marked as sent" in done.output
    assert "0 open request(s)" in runner.invoke(app, ["copy-requests"]).output
    again = runner.invoke(app, ["copy-requests", "--done", request_id])
    assert again.exit_code == 2 and f"no open request {request_id}" in again.output
