"""A pooled company whose ATS is a Greenhouse or Lever fake, matched once, ready for write-back tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update

from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.ats.writeback import AtsWriter, GreenhouseWriter, LeverWriter
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application
from junkan.pool.recontact import match_and_store
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseFake
from tests.fakes.lever import LeverFake
from tests.integration._pool_data import CLOCK, DECIDED, NOW, add_job, add_member

TAG = "Junkan: 再コンタクト候補"
PERFORM_AS = "user-recruiter"


@dataclass
class Company:
    settings: Settings
    run_id: int
    people: int


def settings_for(database_url: str, tmp: Path, kind: str, fake: GreenhouseFake | LeverFake,
                 **writeback: Any) -> Settings:
    ats: dict[str, Any] = {"kind": kind, "base_url": fake.base_url}
    if isinstance(fake, GreenhouseFake):
        ats.update(auth_url=fake.auth_url, client_id=fake.client_id, client_secret=fake.client_secret,
                   user_id=fake.user_id)
    else:
        ats.update(api_key=fake.api_key)
        writeback.setdefault("perform_as", PERFORM_AS)
    return Settings(database_url=database_url, ats=ats, links={"secret": "wb-secret"},
                    recontact={"shortlist_dir": tmp / "shortlists", "writeback": writeback},
                    _env_file=None)  # type: ignore[call-arg]


def writer_for(fake: GreenhouseFake | LeverFake, clock: FakeClock, settings: Settings) -> AtsWriter:
    """The writer `build_writer` makes, waiting on the fake clock (retries take no real time)."""
    if isinstance(fake, GreenhouseFake):
        client = client_for("greenhouse", clock)
        auth = GreenhouseAuth(auth_url=fake.auth_url, client_id=fake.client_id,
                              client_secret=fake.client_secret, user_id=fake.user_id, clock=clock)
        return GreenhouseWriter(client, base_url=fake.base_url, auth=auth, tag_name=TAG)
    return LeverWriter(client_for("lever", clock), base_url=fake.base_url, api_key=fake.api_key,
                       perform_as=PERFORM_AS, tag_name=TAG)


def pooled_company(engine: Engine, settings: Settings, people: list[tuple[str, str | None]],
                   *, past_job: str, new_job: str, emails: dict[str, str | None] | None = None) -> Company:
    """`people`: (the ATS's application id, the ATS's person id or None) of rejected, pooled people who
    all match the new job; `emails`: their addresses by application id (else made up); returns the stored
    shortlist run."""
    add_people(engine, settings.ats.source, people, past_job=past_job, new_job=new_job, emails=emails)
    run = match_and_store(engine, settings, CLOCK)
    assert run.run_id is not None and run.counts["matches"] == len(people)
    return Company(settings, run.run_id, len(people))


def add_people(engine: Engine, source: str, people: list[tuple[str, str | None]], *, past_job: str,
               new_job: str, emails: dict[str, str | None] | None = None) -> None:
    with session_scope(engine) as s:
        add_job(s, "SRE", source=source, external_id=new_job, required=["Kubernetes"],
                opened_at=NOW - timedelta(days=2))
        past = add_job(s, "インフラエンジニア", source=source, external_id=past_job, status="closed",
                       opened_at=DECIDED - timedelta(days=60))
        for app_ext, person_ext in people:
            member = add_member(s, skills=["Kubernetes"], past_job=past, name="山田 太郎")
            s.execute(update(Application).where(Application.candidate_id == member.id)
                      .values(external_id=app_ext, candidate_external_id=person_ext))
            if emails is not None and app_ext in emails:
                member.email_key = emails[app_ext]
