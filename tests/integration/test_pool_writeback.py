"""Write-back into Greenhouse and Lever (docs/pool.md "Write-back"): each action lands exactly once, a
re-run writes nothing again, 429/5xx are retried, a refusal is counted and the run goes on."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from junkan.ats.writeback import AtsWriter
from junkan.config import MailSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Application, Job
from junkan.db.models_pool import AtsWriteback
from junkan.pool import writeback
from junkan.pool.attribution import record_reapplications
from junkan.pool.recontact import match_and_store, send
from junkan.privacy.anonymise import scrub
from junkan.privacy.tables import People
from tests.fakes._common import FakeClock
from tests.fakes.greenhouse import ALL_SCOPES, GreenhouseFake, sample_data
from tests.fakes.lever import LeverFake
from tests.fakes.lever import sample_data as lever_data
from tests.integration._pool_data import CLOCK, NOW, add_consent, pool_settings
from tests.integration._writeback_child import kill_mid_write_back
from tests.integration._writeback_support import (
    TAG,
    Company,
    add_people,
    pooled_company,
    settings_for,
    writer_for,
)

N = 6


def _greenhouse(httpserver: HTTPServer, clock: FakeClock, **options: object) -> GreenhouseFake:
    return GreenhouseFake(httpserver, sample_data(N, n_jobs=2), clock=clock, **options)  # type: ignore[arg-type]


def _gh_people(unknown_every: int = 3) -> list[tuple[str, str | None]]:
    # sample_data: application 200000+i belongs to candidate 100000+i (every 7th reuses the previous one).
    # Every third person's Greenhouse id is unknown (ingested before migration 0014): write-back asks.
    return [(str(200_000 + i), None if i % unknown_every == 0 else str(100_000 + i)) for i in range(N)]


def _gh_notes(fake: GreenhouseFake) -> Counter[str]:
    return Counter(n["body"].splitlines()[-1] for n in fake.resources["notes"])


def _states(engine: Engine) -> Counter[tuple[str, str]]:
    with Session(engine) as s:
        return Counter((r.action, r.state) for r in s.scalars(select(AtsWriteback)))


def _greenhouse_company(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path, *,
    faults: dict[str, object] | None = None, **writeback: object,
) -> tuple[FakeClock, GreenhouseFake, Settings, Company]:
    """A Greenhouse fake (with `faults` injected) and a company whose N pooled people match job 4001."""
    clock = FakeClock()
    fake = _greenhouse(httpserver, clock, **(faults or {}))
    settings = settings_for(database_url, tmp_path, "greenhouse", fake, **writeback)
    company = pooled_company(engine, settings, _gh_people(), past_job="4000", new_job="4001")
    return clock, fake, settings, company


def _assert_each_person_tagged_and_noted_once(fake: GreenhouseFake, engine: Engine,
                                               extra: Counter[tuple[str, str]] | None = None) -> None:
    """Each person tagged once, every note (one per key) written once; the rows done (with `extra`)."""
    tagged = Counter(a["candidate_id"] for a in fake.resources["applied_candidate_tags"])
    assert tagged == Counter({100_000 + i: 1 for i in range(N)})
    notes = sum(n for (action, _state), n in (extra or Counter()).items() if action.endswith("note"))
    assert len(_gh_notes(fake)) == N + notes and set(_gh_notes(fake).values()) == {1}
    assert _states(engine) == Counter({("tag", "done"): N, ("note", "done"): N}) + (extra or Counter())


def test_greenhouse_tag_and_note_land_once_and_a_rerun_writes_nothing(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(httpserver, engine, database_url, tmp_path)
    writer = writer_for(fake, clock, settings)

    first = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)
    again = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=1))

    assert first == {"writeback_planned": 2 * N, "tag_written": N, "note_written": N}
    assert again == {"writeback_planned": 0}
    assert [t["name"] for t in fake.resources["candidate_tags"]] == [TAG]  # created once, then reused
    tagged = Counter(a["candidate_id"] for a in fake.resources["applied_candidate_tags"])
    assert tagged == Counter({100_000 + i: 1 for i in range(N)})
    notes = fake.resources["notes"]
    assert sorted(n["candidate_id"] for n in notes) == [100_000 + i for i in range(N)]
    # A plain note, written as the credential's user (the token's `sub`): Harvest v3 takes no author field.
    assert all(n["type"] == "NOTE" and n["user_id"] == fake.user_id for n in notes)
    assert all(set(b) == {"candidate_id", "body", "note_type", "visibility"} for b in fake.written["notes"])
    body = notes[0]["body"]
    assert body.startswith("循環（Junkan）: 再コンタクト候補として一致しました。")
    assert "新しい求人: SRE（求人ID 4001）" in body
    assert "一致の理由: 必須スキル 1/1 一致（Kubernetes）" in body
    assert "山田" not in body and "@" not in body
    assert set(_gh_notes(fake).values()) == {1}
    # Junkan sends its own mail: no write carries an e-mail option of Greenhouse's.
    assert not [k for bodies in fake.written.values() for b in bodies for k in b if "email" in k]
    assert _states(engine) == Counter({("tag", "done"): N, ("note", "done"): N})


def test_prospect_is_off_by_default_and_lands_once_when_switched_on(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False, prospect=True)
    writer = writer_for(fake, clock, settings)
    # sample_data: the people with an odd index applied to job 4001 themselves; they get no prospect.
    on_the_job = {100_000 + i for i in range(N) if i % 2}

    first = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)
    again = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=1))

    assert first == {"writeback_planned": N, "prospect_written": N - len(on_the_job),
                     "prospect_already_there": len(on_the_job)}
    assert again == {"writeback_planned": 0}
    prospects = fake.written["applications"]
    assert {b["candidate_id"] for b in prospects} == {100_000 + i for i in range(N)} - on_the_job
    assert len(prospects) == N - len(on_the_job)
    assert all(b["prospect"] is True and b["job_ids"] == [4001] for b in prospects)
    assert settings_for(database_url, tmp_path, "greenhouse", fake).recontact.writeback.prospect is False


def test_throttling_and_server_errors_are_retried_and_every_action_lands_exactly_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, faults={"fault_rate": 0.2, "seed": 7})
    writer = writer_for(fake, clock, settings)

    for hour in range(4):  # a write the retry policy gave up on stays pending for the next run
        writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=hour))

    assert fake.faults.injected > 0 and any(r.status == 429 for r in fake.requests)
    _assert_each_person_tagged_and_noted_once(fake, engine)


def test_a_refused_scope_is_counted_per_action_and_the_run_goes_on(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(httpserver, engine, database_url, tmp_path)
    # The tag's scopes (docs/pool.md "Minimum API permissions"), and none for notes.
    fake.scopes = {"harvest:candidate_tags:list", "harvest:candidate_tags:create",
                   "harvest:applied_candidate_tags:list", "harvest:applied_candidate_tags:create",
                   "harvest:applications:list"}

    writer = writer_for(fake, clock, settings)
    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    assert counts == {"writeback_planned": 2 * N, "tag_written": N, "note_failed": N}
    assert fake.resources["notes"] == []
    with Session(engine) as s:
        errors = set(s.scalars(select(AtsWriteback.error).where(AtsWriteback.action == "note")))
    assert errors == {"HTTP 403: refused by the ATS"}


@pytest.mark.parametrize(("action", "scope"), [("tag", "harvest:applied_candidate_tags:create"),
                                               ("note", "harvest:notes:create"),
                                               ("prospect", "harvest:applications:create")])
def test_each_action_refused_its_scope_fails_alone(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path, action: str, scope: str
) -> None:
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, prospect=True)
    fake.scopes = set(ALL_SCOPES - {scope})

    writer = writer_for(fake, clock, settings)
    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    # The people who applied to job 4001 themselves get no prospect whatever the scopes (see above).
    prospects = N // 2
    expected = {"tag": N, "note": N, "prospect": prospects}
    assert counts[f"{action}_failed"] == expected[action]
    assert {k: v for k, v in counts.items() if k.endswith("_written")} == {
        f"{a}_written": n for a, n in expected.items() if a != action}
    assert fake.written[scope.split(":")[1]] == []


def test_every_action_lands_exactly_once_under_faults(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, faults={"fault_rate": 0.2, "seed": 3}, prospect=True)
    writer = writer_for(fake, clock, settings)
    _reapply(engine, fake)
    with session_scope(engine) as s:
        s.execute(update(Application).where(Application.external_id == "300001").values(status="hired"))

    for hour in range(5):
        later = NOW + timedelta(days=4, hours=hour)
        writeback.run(engine, settings, writer, run_id=company.run_id, now=later)

    assert fake.faults.injected > 0
    _assert_each_person_tagged_and_noted_once(fake, engine, extra=Counter(
        {("prospect", "done"): N, ("reapplied_note", "done"): 1, ("hired_note", "done"): 1}))
    assert len(fake.written["applications"]) == N // 2  # one prospect each for those not on the job
    assert len({a["candidate_id"] for a in fake.written["applications"]}) == N // 2


def test_a_write_interrupted_after_the_call_is_found_in_the_ats_not_written_again(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(httpserver, engine, database_url, tmp_path)
    writer = writer_for(fake, clock, settings)
    writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)
    # As after a crash between the ATS's answer and the record: claimed, written, not recorded.
    with session_scope(engine) as s:
        s.execute(update(AtsWriteback).values(state="sending", attempts=1, lease_until=NOW))

    later = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=1))

    assert later == {"writeback_planned": 0, "tag_already_there": N, "note_already_there": N}
    assert len(fake.resources["applied_candidate_tags"]) == N and len(fake.resources["notes"]) == N


def test_lever_tags_and_notes_as_the_configured_user_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = LeverFake(httpserver, lever_data(N, n_postings=2), clock=clock, fault_rate=0.2, seed=3)
    settings = settings_for(database_url, tmp_path, "lever", fake)
    people: list[tuple[str, str | None]] = [(f"opp-{i:05d}", f"contact-{i:05d}") for i in range(N)]
    company = pooled_company(engine, settings, people, past_job="post-0", new_job="post-1")
    writer = writer_for(fake, clock, settings)

    for hour in range(4):
        writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=hour))

    for opp in fake.opportunities:
        assert opp["tags"].count(TAG) == 1
        notes = fake.notes[opp["id"]]
        assert len(notes) == 1 and notes[0]["user"] == "user-recruiter"
        assert "求人ID post-1" in notes[0]["fields"][0]["value"]
    writes = [r for r in fake.requests if r.method == "POST" and not r.fault]
    assert writes and all(r.args.get("perform_as") == ["user-recruiter"] for r in writes)
    assert _states(engine) == Counter({("tag", "done"): N, ("note", "done"): N})


def test_lever_without_perform_as_and_spreadsheets_get_no_writer(database_url: str, tmp_path: Path) -> None:
    from junkan.ats.base import AtsError
    from junkan.ats.factory import build_writer

    lever = Settings(ats={"kind": "lever", "api_key": "k"}, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(AtsError, match="JUNKAN_RECONTACT__WRITEBACK__PERFORM_AS"):
        build_writer(lever.ats, lever.recontact.writeback)
    sheet = Settings(_env_file=None)  # type: ignore[call-arg]
    assert build_writer(sheet.ats, sheet.recontact.writeback) is None
    assert writeback.enabled_actions(sheet) == ()


def test_a_typo_in_a_writeback_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from junkan.config import ConfigError, get_settings

    monkeypatch.setenv("JUNKAN_RECONTACT__WRITEBACK__TAGG", "false")
    with pytest.raises(ConfigError, match="TAGG"):
        get_settings()


def test_a_sigkill_mid_write_back_then_a_rerun_lands_every_action_exactly_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(httpserver, engine, database_url, tmp_path)
    ats = settings.ats.model_dump(include={"base_url", "auth_url", "client_id", "user_id"})
    ats |= {"kind": "greenhouse", "client_secret": fake.client_secret}
    # Of the 2 × N writes, the tag and the note of some people are in, others not.
    kill_mid_write_back(fake, engine, database_url, ats, tmp_path, company.run_id, kill_after=5)
    assert _states(engine)[("tag", "done")] + _states(engine)[("note", "done")] < 2 * N, "killed too late"

    lease = settings.recontact.writeback.lease_s
    after = writeback.run(engine, settings, writer_for(fake, clock, settings), run_id=company.run_id,
                          now=NOW + timedelta(seconds=lease + 1))

    assert after["writeback_planned"] == 0
    _assert_each_person_tagged_and_noted_once(fake, engine)


def _reapply(engine: Engine, fake: GreenhouseFake) -> None:
    """Person 1 (candidate 100001) applies to the matched job 4001 after the match: application 300001,
    in Greenhouse and ingested, recorded as a re-application from re-contact."""
    with session_scope(engine) as s:
        person = s.scalars(select(Application).where(Application.external_id == "200001")).one()
        job = s.scalars(select(Job).where(Job.external_id == "4001")).one()
        s.add(Application(source="greenhouse", external_id="300001", candidate_id=person.candidate_id,
                          candidate_external_id="100001", job_id=job.id, status="in_process",
                          applied_at=NOW + timedelta(days=3), content_hash="x"))
    fake.resources["applications"].append({"id": 300_001, "candidate_id": 100_001, "job_id": 4001,
                                           "status": "active", "prospect": False})
    with session_scope(engine) as s:
        assert record_reapplications(s, NOW + timedelta(days=4)) == 1


def _reapplied_company(httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
                       ) -> tuple[GreenhouseFake, Settings, Company, AtsWriter]:
    """The Greenhouse company with only the re-application notes on, after person 1 applied again."""
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False)
    _reapply(engine, fake)
    return fake, settings, company, writer_for(fake, clock, settings)


def test_a_reapplication_from_recontact_gets_a_note_on_the_new_application(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, company, writer = _reapplied_company(httpserver, engine, database_url, tmp_path)

    first = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(days=4))
    again = writeback.run(engine, settings, writer, run_id=None, now=NOW + timedelta(days=5))

    assert first == {"writeback_planned": 1, "reapplied_note_written": 1}
    assert again == {"writeback_planned": 0}
    (note,) = fake.resources["notes"]
    assert (note["candidate_id"], note["application_id"]) == (100_001, 300_001)  # on the new application
    assert note["body"].startswith("循環（Junkan）: この応募は再コンタクトからの再応募です。")
    assert "2026-11-20 の一致" in note["body"]
    assert "求人「SRE」" in note["body"]


def test_a_reapplication_that_ends_in_a_hire_gets_a_hire_note_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, _company, writer = _reapplied_company(httpserver, engine, database_url, tmp_path)
    writeback.run(engine, settings, writer, run_id=None, now=NOW + timedelta(days=4))
    # Ingest later sees the hire in Greenhouse.
    with session_scope(engine) as s:
        s.execute(update(Application).where(Application.external_id == "300001").values(status="hired"))

    hired = writeback.run(engine, settings, writer, run_id=None, now=NOW + timedelta(days=40))
    again = writeback.run(engine, settings, writer, run_id=None, now=NOW + timedelta(days=41))

    assert hired == {"writeback_planned": 1, "hired_note_written": 1}
    assert again == {"writeback_planned": 0}
    reapplied, hire = fake.resources["notes"]
    assert reapplied["body"].startswith("循環（Junkan）: この応募は再コンタクトからの再応募です。")
    assert hire["body"].startswith("循環（Junkan）: 再コンタクトからの採用です。"
                                   "2026-11-20 の一致（求人「SRE」）")
    assert (hire["candidate_id"], hire["application_id"]) == (100_001, 300_001)
    assert _states(engine) == Counter({("reapplied_note", "done"): 1, ("hired_note", "done"): 1})


def test_auto_mode_writes_back_the_people_mailed_not_a_cancelled_mail(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = _greenhouse(httpserver, clock)
    base = settings_for(database_url, tmp_path, "greenhouse", fake, note=False)
    mail = MailSettings(backend="file", outbox_dir=tmp_path / "out")
    settings = pool_settings(base.model_copy(update={"mail": mail}), mode="auto", holdout_share=0.0)
    add_people(engine, "greenhouse", _gh_people(), past_job="4000", new_job="4001")
    run = match_and_store(engine, settings, CLOCK)
    assert run.run_id is not None and run.counts["mails_enqueued"] == N
    with session_scope(engine) as s:  # person 2 withdraws consent before the send: the gate cancels
        withdrawn = s.scalars(select(Application.candidate_id)
                              .where(Application.external_id == "200002")).one()
        add_consent(s, withdrawn, "recontact", False, at=NOW)
    assert send(engine, settings, CLOCK)["mails_sent"] == N - 1

    counts = writeback.run(engine, settings, writer_for(fake, clock, settings), run_id=run.run_id, now=NOW)

    assert counts == {"writeback_planned": N - 1, "tag_written": N - 1}
    assert 100_002 not in {a["candidate_id"] for a in fake.resources["applied_candidate_tags"]}


def test_a_person_erased_before_the_write_is_not_written_back(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock, fake, settings, company = _greenhouse_company(
        httpserver, engine, database_url, tmp_path, note=False)
    with session_scope(engine) as s:
        assert writeback.plan(s, settings, company.run_id, NOW) == N
        erased = s.scalars(select(Application.candidate_id).where(Application.external_id == "200001")).one()
    with engine.begin() as conn:
        scrub(conn, People(candidate_ids=[erased]), at=NOW)

    counts = writeback.write_back(engine, settings, writer_for(fake, clock, settings), now=NOW)

    assert counts == {"tag_written": N - 1}
    assert 100_001 not in {a["candidate_id"] for a in fake.resources["applied_candidate_tags"]}
    with Session(engine) as s:
        row = s.scalars(select(AtsWriteback).where(AtsWriteback.candidate_id == erased)).one()
    assert (row.state, row.error) == ("failed", "erased before it was written")


def test_a_dry_run_counts_what_it_would_write_and_writes_nothing(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _clock, fake, settings, company = _greenhouse_company(httpserver, engine, database_url, tmp_path)

    counts = writeback.run(engine, settings, None, run_id=company.run_id, now=NOW, dry_run=True)

    assert counts == {"writeback_planned": 2 * N, "tag_would_write": N, "note_would_write": N}
    assert fake.requests == [] and _states(engine) == Counter()


def test_lever_refusing_the_perform_as_user_is_counted_and_the_run_goes_on(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = LeverFake(httpserver, lever_data(N, n_postings=2), clock=clock)
    fake.users = {"someone-else"}
    settings = settings_for(database_url, tmp_path, "lever", fake)
    people: list[tuple[str, str | None]] = [(f"opp-{i:05d}", f"contact-{i:05d}") for i in range(N)]
    company = pooled_company(engine, settings, people, past_job="post-0", new_job="post-1")

    writer = writer_for(fake, clock, settings)
    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    assert counts == {"writeback_planned": 2 * N, "tag_failed": N, "note_failed": N}
    assert fake.written == [] and _states(engine) == Counter({("tag", "failed"): N, ("note", "failed"): N})
