"""`junkan pool …`: the matches export (CSV columns, BOM, JSON), the member list, tags; and attribution."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from junkan.cli import pool as pool_cli
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message
from junkan.db.models_pool import PoolReapplication, PoolTag
from junkan.pool.attribution import lift, record_reapplications
from junkan.pool.export import COLUMNS
from junkan.pool.recontact import match_and_store
from junkan.pool.refs import candidate_ref
from tests.integration._pool_data import (
    CLOCK,
    NOW,
    add_application,
    add_job,
    add_member,
    add_opening,
    pool_settings,
)

runner = CliRunner()
SECRET = "pool-test-secret"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine, tmp_path: Path) -> Settings:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_LINKS__SECRET", SECRET)
    monkeypatch.setenv("JUNKAN_RECONTACT__SHORTLIST_DIR", str(tmp_path / "shortlists"))
    return Settings(database_url=database_url, links={"secret": SECRET},
                    recontact={"shortlist_dir": tmp_path / "shortlists"},
                    mail={"backend": "file", "outbox_dir": tmp_path / "outbox"},
                    _env_file=None)  # type: ignore[call-arg]


def _data(engine: Engine) -> dict[str, object]:
    with session_scope(engine) as s:
        gh = add_job(s, "SRE", source="greenhouse", external_id="4012", required=["Kubernetes"],
                     opened_at=NOW - timedelta(days=20))
        opening = add_opening(s, gh, opened_at=NOW - timedelta(days=2), external_id="OP-77")
        sheet = add_job(s, "データアナリスト", external_id="求人-9", required=["SQL"],
                        opened_at=NOW - timedelta(days=1))
        sre = add_member(s, skills=["Kubernetes"], past_title="SRE", name="佐藤 花子")
        analyst = add_member(s, skills=["SQL"], past_title="データアナリスト", tags=["新卒"])
        apps = {c: s.scalars(select(Application.external_id).where(Application.candidate_id == c)).one()
                for c in (sre.id, analyst.id)}
    return {"sre": sre.id, "analyst": analyst.id, "apps": apps, "opening": opening.external_id,
            "gh": gh.external_id, "sheet": sheet.external_id}


def test_matches_csv_has_exactly_the_columns(engine: Engine, env: Settings, tmp_path: Path) -> None:
    d = _data(engine)
    match_and_store(engine, env, CLOCK)
    out = tmp_path / "matches.csv"
    result = runner.invoke(pool_cli.app, ["matches", "--format", "csv", "--lang", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # names candidates: owner only
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS == ("job_id", "opening_id", "rank", "score", "candidate_ref",
                                         "application_id", "why")
    body = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    gh, sheet = body[d["gh"]], body[d["sheet"]]  # type: ignore[index]
    assert gh["opening_id"] == d["opening"] and sheet["opening_id"] == ""  # spreadsheets have no openings
    assert gh["candidate_ref"] == candidate_ref(d["sre"], env.links)  # type: ignore[arg-type]
    assert gh["application_id"] == d["apps"][d["sre"]]  # type: ignore[index]
    assert gh["rank"] == "1" and float(gh["score"]) > 0
    assert gh["why"].startswith("必須スキル 1/1 一致（Kubernetes）")
    assert "佐藤" not in raw.decode("utf-8-sig") and "@" not in raw.decode("utf-8-sig")


def test_matches_json_to_stdout_and_no_run_yet(engine: Engine, env: Settings) -> None:
    empty = runner.invoke(pool_cli.app, ["matches"])
    assert empty.exit_code == 1 and "no recontact run yet" in empty.output
    _data(engine)
    match_and_store(engine, env, CLOCK)
    result = runner.invoke(pool_cli.app, ["matches", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data) == 2 and set(data[0]) == set(COLUMNS)
    bad = runner.invoke(pool_cli.app, ["matches", "--format", "xml"])
    assert bad.exit_code == 2 and "csv, xlsx or json" in bad.output


def test_list_shows_refs_and_refuses_names_outside_a_terminal(
    engine: Engine, env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _data(engine)
    listed = runner.invoke(pool_cli.app, ["list"])
    assert listed.exit_code == 0, listed.output
    assert candidate_ref(d["sre"], env.links) in listed.output  # type: ignore[arg-type]
    assert "佐藤" not in listed.output and "最終面接まで進んだ" not in listed.output.split("\t")[0]
    refused = runner.invoke(pool_cli.app, ["list", "--show-names"])
    assert refused.exit_code == 2 and "needs a terminal" in refused.output
    monkeypatch.setattr(pool_cli, "stdout_is_terminal", lambda: True)
    named = runner.invoke(pool_cli.app, ["list", "--show-names"])
    assert named.exit_code == 0 and "佐藤 花子" in named.output
    only = runner.invoke(pool_cli.app, ["list", "--tag", "新卒"])
    assert candidate_ref(d["analyst"], env.links) in only.output  # type: ignore[arg-type]
    assert candidate_ref(d["sre"], env.links) not in only.output  # type: ignore[arg-type]
    auto_tag = runner.invoke(pool_cli.app, ["list", "--tag", "skill:Kubernetes"])
    assert candidate_ref(d["sre"], env.links) in auto_tag.output  # type: ignore[arg-type]


def test_tag_by_ref_and_from_csv_with_a_bad_row(engine: Engine, env: Settings, tmp_path: Path) -> None:
    d = _data(engine)
    sre_ref = candidate_ref(d["sre"], env.links)  # type: ignore[arg-type]
    tagged = runner.invoke(pool_cli.app, ["tag", sre_ref, "--tag", "要フォロー"])
    assert tagged.exit_code == 0 and "1 tag(s) added" in tagged.output
    sheet = tmp_path / "tags.csv"
    analyst_ref = candidate_ref(d["analyst"], env.links)  # type: ignore[arg-type]
    sheet.write_text(f"candidate_ref,tag\n{analyst_ref},Python\nc_unknown,営業\n{sre_ref},\n",
                     encoding="utf-8-sig")
    imported = runner.invoke(pool_cli.app, ["tag", "--csv", str(sheet)])
    assert imported.exit_code == 1
    assert "1 tag(s) added" in imported.output and "2 rejected" in imported.output
    assert "tags.csv row 3: column candidate_ref 'c_unknown' is not a pool member" in imported.output
    assert "tags.csv row 4: column tag is empty" in imported.output
    with Session(engine) as s:
        assert {(t.candidate_id, t.tag) for t in s.scalars(select(PoolTag))} == {
            (d["sre"], "要フォロー"), (d["analyst"], "Python")}
    broken = tmp_path / "broken.csv"
    broken.write_text("ref;label\n", encoding="utf-8")
    refused = runner.invoke(pool_cli.app, ["tag", "--csv", str(broken)])
    assert refused.exit_code == 2
    assert refused.output.strip() == f"{broken}: the header must have the columns candidate_ref and tag"


def test_a_later_application_is_recorded_as_a_reapplication_from_recontact(
    engine: Engine, env: Settings
) -> None:
    cfg = pool_settings(env, mode="auto", holdout_share=0.0)
    d = _data(engine)
    out = match_and_store(engine, cfg, CLOCK)
    assert out.counts["mails_enqueued"] == 2
    with session_scope(engine) as s:
        for m in s.scalars(select(Message)):
            m.state = "accepted"
        job = s.scalars(select(Application.job_id).where(Application.candidate_id == d["sre"])).first()
        later = add_job(s, "SRE", status="open")
        add_application(s, s.get(Candidate, d["sre"]), later, status="in_process", decided_at=None,
                        applied_at=NOW + timedelta(days=3))
        assert job is not None
    with session_scope(engine) as s:
        assert record_reapplications(s, NOW + timedelta(days=4)) == 1
    with session_scope(engine) as s:
        assert record_reapplications(s, NOW + timedelta(days=5)) == 0  # idempotent
    with Session(engine) as s:
        (re,) = s.scalars(select(PoolReapplication)).all()
        measured = lift(s)
    assert re.candidate_id == d["sre"] and re.grp == "contacted" and re.message_id is not None
    assert re.run_id == out.run_id
    assert (measured.contacted.people, measured.contacted.reapplied) == (2, 1)


def test_a_tag_longer_than_100_characters_is_rejected_with_its_row_not_cut(
    engine: Engine, env: Settings, tmp_path: Path
) -> None:
    d = _data(engine)
    sre_ref = candidate_ref(d["sre"], env.links)  # type: ignore[arg-type]
    analyst_ref = candidate_ref(d["analyst"], env.links)  # type: ignore[arg-type]
    sheet = tmp_path / "tags.csv"
    sheet.write_text(f"candidate_ref,tag\n{sre_ref},{'長' * 5000}\n{analyst_ref},{'短' * 100}\n",
                     encoding="utf-8")

    imported = runner.invoke(pool_cli.app, ["tag", "--csv", str(sheet)])
    by_option = runner.invoke(pool_cli.app, ["tag", sre_ref, "--tag", "x" * 101])

    assert imported.exit_code == 1
    assert "tags.csv row 2: column tag is longer than 100 characters (5,000); shorten it" in imported.output
    assert "1 tag(s) added" in imported.output and "1 rejected" in imported.output
    assert by_option.exit_code == 2
    assert "--tag is longer than 100 characters (101); shorten it" in by_option.output
    with Session(engine) as s:
        assert {(t.candidate_id, t.tag) for t in s.scalars(select(PoolTag))} == {(d["analyst"], "短" * 100)}


def test_a_cp932_tag_file_is_read_like_every_other_import(
    engine: Engine, env: Settings, tmp_path: Path
) -> None:
    d = _data(engine)
    sre_ref = candidate_ref(d["sre"], env.links)  # type: ignore[arg-type]
    sheet = tmp_path / "タグ.csv"
    sheet.write_bytes(f"candidate_ref,tag\r\n{sre_ref},要フォロー\r\n".encode("cp932"))
    not_text = tmp_path / "bad.csv"
    not_text.write_bytes(b"candidate_ref,tag\n\xff\xfe\xfa,x\n")

    imported = runner.invoke(pool_cli.app, ["tag", "--csv", str(sheet)])
    refused = runner.invoke(pool_cli.app, ["tag", "--csv", str(not_text)])

    assert imported.exit_code == 0, imported.output
    assert "1 tag(s) added" in imported.output
    with Session(engine) as s:
        assert {(t.candidate_id, t.tag) for t in s.scalars(select(PoolTag))} == {(d["sre"], "要フォロー")}
    assert refused.exit_code == 2
    assert len(refused.output.strip().splitlines()) == 1 and "neither UTF-8 nor CP932" in refused.output
