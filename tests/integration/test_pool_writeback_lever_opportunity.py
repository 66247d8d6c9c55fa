"""Lever write-back's optional new opportunity for the posting (docs/pool.md "Write-back"): off by default;
switched on, each matched person gets exactly one opportunity on the new posting, linked to their Lever
contact by their e-mail address, and the address goes nowhere but into that request body."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from junkan.ats.writeback import AtsWriter, Write
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models_pool import AtsWriteback
from junkan.http import HttpError
from junkan.pool import writeback
from tests.fakes._common import FakeClock
from tests.fakes.lever import LeverFake, postings_of
from tests.fakes.lever import sample_data as lever_data
from tests.integration._pool_data import NOW
from tests.integration._writeback_child import kill_mid_write_back
from tests.integration._writeback_support import (
    PERFORM_AS,
    TAG,
    Company,
    pooled_company,
    settings_for,
    writer_for,
)

N = 6
NEW_POSTING = "post-1"
#: sample_data: opportunity i is on post-(i % 2), so the people with an odd index are on the new posting
#: already (they applied themselves) and get no second opportunity.
ON_THE_POSTING = {f"contact-{i:05d}" for i in range(N) if i % 2}


def _address(i: int) -> str:
    return f"opp{i}@example.jp"  # the address sample_data gives opportunity i in Lever


def _lever_company(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path, *,
    faults: dict[str, object] | None = None, new_posting: str = NEW_POSTING,
    addresses: dict[str, str | None] | None = None, **switches: object,
) -> tuple[LeverFake, Settings, Company, AtsWriter]:
    """The Lever fake and a company whose N pooled people match `new_posting`, the new opportunity switched
    on (with `switches`), and the writer."""
    clock = FakeClock()
    fake = LeverFake(httpserver, lever_data(N, n_postings=2), clock=clock, **(faults or {}))  # type: ignore[arg-type]
    settings = settings_for(database_url, tmp_path, "lever", fake, **{"prospect": True, **switches})
    people: list[tuple[str, str | None]] = [(f"opp-{i:05d}", f"contact-{i:05d}") for i in range(N)]
    emails = {f"opp-{i:05d}": _address(i) for i in range(N)} | (addresses or {})
    company = pooled_company(engine, settings, people, past_job="post-0", new_job=new_posting, emails=emails)
    return fake, settings, company, writer_for(fake, clock, settings)


def _on_posting(fake: LeverFake, posting: str = NEW_POSTING) -> Counter[str]:
    """Opportunities per contact on `posting`."""
    return Counter(o["contact"] for o in fake.opportunities if posting in postings_of(o))


def _states(engine: Engine) -> Counter[tuple[str, str]]:
    with Session(engine) as s:
        return Counter((r.action, r.state) for r in s.scalars(select(AtsWriteback)))


def _assert_one_opportunity_each(fake: LeverFake) -> None:
    assert _on_posting(fake) == Counter({f"contact-{i:05d}": 1 for i in range(N)})


def test_off_by_default_and_switched_on_each_person_gets_one_opportunity_linked_to_their_contact(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False)
    default = settings_for(database_url, tmp_path, "lever", fake)
    assert default.recontact.writeback.prospect is False
    assert writeback.enabled_actions(default) == ("tag", "note")

    first = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)
    again = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=1))

    new = N - len(ON_THE_POSTING)
    assert first == {"writeback_planned": N, "prospect_written": new,
                     "prospect_already_there": len(ON_THE_POSTING)}
    assert again == {"writeback_planned": 0}
    _assert_one_opportunity_each(fake)  # linked to the existing contact: no second person in Lever
    made = [body for kind, body in fake.written if kind == "opportunity"]
    assert len(made) == new
    assert all(body == {"emails": [body["emails"][0]], "postings": [NEW_POSTING], "origin": "sourced",
                        "sources": ["Junkan"], "tags": [TAG]} for body in made)
    assert all(r.args["perform_as"] == [PERFORM_AS] for r in fake.requests if r.method == "POST")
    assert _states(engine) == Counter({("prospect", "done"): N})


def test_an_interrupted_write_finds_the_opportunity_and_makes_no_second(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False)
    writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)
    # As after a crash between Lever's answer and the record: claimed, made, not recorded.
    with session_scope(engine) as s:
        s.execute(update(AtsWriteback).values(state="sending", attempts=1, lease_until=NOW))

    later = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=1))

    assert later == {"writeback_planned": 0, "prospect_already_there": N}
    _assert_one_opportunity_each(fake)


def test_throttling_and_server_errors_are_retried_and_each_opportunity_is_made_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, faults={"fault_rate": 0.2, "seed": 11})

    for hour in range(4):  # what the retry policy gave up on stays pending for the next run
        writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW + timedelta(hours=hour))

    assert fake.faults.injected > 0 and any(r.status == 429 for r in fake.requests)
    _assert_one_opportunity_each(fake)
    old = {o["id"]: o for o in fake.opportunities}
    assert all(old[f"opp-{i:05d}"]["tags"].count(TAG) == 1 for i in range(N))
    assert _states(engine) == Counter({("tag", "done"): N, ("note", "done"): N, ("prospect", "done"): N})


def test_a_refusal_is_counted_and_the_tags_and_notes_go_on(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # A posting Lever does not have: Lever answers 400 to every new opportunity for it.
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, new_posting="post-9")

    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    assert counts == {"writeback_planned": 3 * N, "tag_written": N, "note_written": N, "prospect_failed": N}
    assert _on_posting(fake, "post-9") == Counter()
    with Session(engine) as s:
        errors = set(s.scalars(select(AtsWriteback.error).where(AtsWriteback.action == "prospect")))
    assert errors == {"HTTP 400: refused by the ATS"}


def test_a_person_without_an_address_gets_no_opportunity_and_the_reason_is_recorded(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False, addresses={"opp-00000": None})

    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    assert counts["prospect_failed"] == 1 and "contact-00000" not in _on_posting(fake)
    with Session(engine) as s:
        (error,) = s.scalars(select(AtsWriteback.error).where(AtsWriteback.state == "failed"))
    assert error == "lever: no e-mail address to link the new opportunity to the person"


def test_the_address_goes_into_the_request_body_only(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, faults={"fault_rate": 0.2, "seed": 5})
    caplog.set_level(logging.DEBUG)

    counts = {}
    for hour in range(3):
        counts |= writeback.run(engine, settings, writer, run_id=company.run_id,
                                now=NOW + timedelta(hours=hour))

    sent = [body["emails"][0] for kind, body in fake.written if kind == "opportunity"]
    assert sorted(sent) == sorted(_address(i) for i in range(N) if i % 2 == 0)  # in the body, as Lever needs
    assert "@" not in caplog.text and "@" not in repr(counts)
    assert not [r for r in fake.requests if "@" in repr(r.args)]  # never in a URL (server logs keep those)
    with Session(engine) as s:
        kept = [(r.error, r.ats_ref) for r in s.scalars(select(AtsWriteback))]
    assert "@" not in repr(kept)
    assert "@" not in repr(Write(key="k", action="prospect", application_ext="a", person_ext="p", job_ext="j",
                                 text="", email=_address(0)))


def test_a_sigkill_mid_write_back_then_a_rerun_makes_each_opportunity_exactly_once(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    only = {"prospect": True, "tag": False, "note": False}
    fake, settings, company, writer = _lever_company(httpserver, engine, database_url, tmp_path, **only)
    ats = {"kind": "lever", "base_url": fake.base_url, "api_key": fake.api_key}
    # Killed while Lever holds its answer to the second new opportunity: made there, not recorded here.
    kill_mid_write_back(fake, engine, database_url, ats, tmp_path, company.run_id, kill_after=2,
                        switches=only)
    assert _states(engine)[("prospect", "done")] < N, "killed too late"

    lease = settings.recontact.writeback.lease_s
    after = writeback.run(engine, settings, writer, run_id=company.run_id,
                          now=NOW + timedelta(seconds=lease + 1))

    assert after["writeback_planned"] == 0
    _assert_one_opportunity_each(fake)
    assert _states(engine) == Counter({("prospect", "done"): N})


#: Replies to the first person's opportunity lookup that must not read as "no opportunity there": a reply
#: without a data list, and a pagination token that comes back (followed, it would loop forever).
_BROKEN_LOOKUPS = {
    "no data list": ([{"opportunities": [], "hasNext": False}], "expected an object with a data list"),
    "repeated token": ([{"data": [], "hasNext": True, "next": "same"}] * 2, "pagination token repeated"),
}


@pytest.mark.parametrize("broken", sorted(_BROKEN_LOOKUPS))
def test_a_broken_lookup_reply_fails_the_write_and_makes_no_opportunity(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path, broken: str
) -> None:
    fake, settings, company, writer = _lever_company(
        httpserver, engine, database_url, tmp_path, tag=False, note=False)
    replies, message = _BROKEN_LOOKUPS[broken]
    lookup = {"contact_id": "contact-00000", "posting_id": NEW_POSTING, "expand": "applications",
              "limit": "100"}

    def break_the_lookup() -> None:
        for n, reply in enumerate(replies):
            query = lookup | ({"offset": "same"} if n else {})
            httpserver.expect_oneshot_request("/v1/opportunities", method="GET",
                                              query_string=query).respond_with_json(reply)

    break_the_lookup()
    counts = writeback.run(engine, settings, writer, run_id=company.run_id, now=NOW)

    new = N - len(ON_THE_POSTING)
    assert counts == {"writeback_planned": N, "prospect_failed": 1, "prospect_written": new - 1,
                      "prospect_already_there": len(ON_THE_POSTING)}
    assert "contact-00000" not in _on_posting(fake)
    assert _address(0) not in [body["emails"][0] for kind, body in fake.written if kind == "opportunity"]
    with Session(engine) as s:
        (error,) = s.scalars(select(AtsWriteback.error).where(AtsWriteback.state == "failed"))
    assert error == "HTTP 200: refused by the ATS"
    break_the_lookup()
    write = Write(key="k", action="prospect", application_ext="opp-00000", person_ext="contact-00000",
                  job_ext=NEW_POSTING, text="", email=_address(0))
    with pytest.raises(HttpError, match=f"lever GET /v1/opportunities: {message}"):
        writer.present(write)
