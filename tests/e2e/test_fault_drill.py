"""The fault drill: `daily` over the demo company on a real Prefect server while everything around it fails.

- The ATS (the Greenhouse fake serving the demo company) answers 429, 5xx and, once, truncated JSON.
- SendGrid answers 429, 5xx and slowly; the partner's API answers 5xx.
- The worker (and the flow run's process) is SIGKILLed at seeded points of the fakes' request streams,
  and the run is triggered again; the killed run is marked Crashed, as Prefect's zombie detection does,
  and its leases are let run out (instead of waiting 15 minutes).
- On PostgreSQL, every connection of the database is dropped (`pg_terminate_backend`) at seeded points;
  SQLite has no server connections to drop, so that fault is PostgreSQL-only.

Crash leftovers end `unknown`; the operator settles each with `junkan outbox resolve` from what
SendGrid's log shows (docs/outbox.md). Once a run completes with nothing left to send or settle, every
invariant is checked, and every KPI is compared with a fault-free run over the same data in a second
database. The seed (JUNKAN_DRILL_SEED) replays a failing drill.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select

from junkan.db import make_engine, session_scope
from junkan.db.models import Application, DecisionLog, Message
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral
from junkan.outbox.review import resolve
from tests.e2e._demo_greenhouse import from_demo
from tests.e2e._faults import (
    FaultPoint,
    KillSwitch,
    MailFaults,
    Points,
    let_leases_run_out,
    tagged_url,
    terminate_backends,
    wait_for_backends_to_end,
)
from tests.e2e._prefect import PrefectServer, Worker
from tests.e2e._runs import api, live_run_pids, mark_crashed, trigger_daily, wait_for
from tests.e2e._scenario import (
    SENDGRID_KEY,
    DemoCompany,
    base_env,
    demo_company,
    kpis,
    registered_every_third,
    report_period,
    scratch_database,
)
from tests.fakes.greenhouse import GreenhouseFake
from tests.fakes.partner import PartnerFake
from tests.fakes.sendgrid import SendGridFake

pytestmark = pytest.mark.timeout(1500)

SEED = int(os.environ.get("JUNKAN_DRILL_SEED", "20261201"))
MAX_ROUNDS = 8
REGISTRATIONS_PER_CREDIT = 2


@dataclass
class Site:
    """One company's world: its database and the three vendors it talks to."""

    engine: Engine
    sendgrid: SendGridFake
    ats: GreenhouseFake
    partner: PartnerFake
    env: dict[str, str]


@pytest.fixture
def sendgrid_fakes() -> Iterator[list[SendGridFake]]:
    fakes: list[SendGridFake] = []
    yield fakes
    for fake in fakes:
        fake.stop()


def _site(name: str, database_url: str, company: DemoCompany, httpserver: HTTPServer, workdir: Path,
          sendgrid_fakes: list[SendGridFake], *, faults: bool, points: Points | None = None) -> Site:
    engine = make_engine(database_url)
    mail_faults = MailFaults(SEED, points) if faults and points is not None else None
    sendgrid = SendGridFake(SENDGRID_KEY, empty_suppressions=True, responder=mail_faults).start()
    sendgrid_fakes.append(sendgrid)
    ats = GreenhouseFake(
        httpserver, from_demo(company.export, company.jobs_sheet), prefix=f"/{name}/greenhouse",
        **({"fault_rate": 0.15, "fault_statuses": (429, 500, 503), "truncate_rate": 0.08,
            "max_truncated": 1, "seed": SEED} if faults else {}))
    partner = PartnerFake(httpserver, lambda: registered_every_third(engine), prefix=f"/{name}/partner",
                          **({"fault_rate": 0.3, "fault_statuses": (500, 502, 503), "seed": SEED + 1}
                             if faults else {}))
    if points is not None:
        ats.on_request = lambda _line: points.seen("ats")
    env = {
        **base_env(tagged_url(database_url), workdir / name, sendgrid),
        **ats.env(),
        "JUNKAN_ATS__PAGE_SIZE": "100",
        **partner.env(),
        "JUNKAN_PARTNER__REGISTRATIONS_PER_CREDIT": str(REGISTRATIONS_PER_CREDIT),
        # Retries that fit a test: short backoffs, a 5 s read timeout well above the slow answers.
        "JUNKAN_MAIL__BACKOFF_BASE_S": "0.05",
        "JUNKAN_MAIL__BACKOFF_MAX_S": "0.2",
        "JUNKAN_MAIL__TIMEOUT_S": "5",
        "JUNKAN_MAIL__RATE_LIMIT_MAX_WAIT_S": "2",
    }
    return Site(engine, sendgrid, ats, partner, env)


def _unsettled(engine: Engine) -> Counter[str]:
    with session_scope(engine) as s:
        return Counter(dict(s.execute(
            select(Message.state, func.count()).where(Message.state.in_(("pending", "sending", "unknown")))
            .group_by(Message.state)).all()))


def _settle_unknown(site: Site) -> Counter[str]:
    """The operator's review: `junkan outbox resolve <id> --sent` for what SendGrid's log shows as taken,
    `--resend` for the rest."""
    taken = {r.junkan_message_id for r in site.sendgrid.accepted}
    done: Counter[str] = Counter()
    with session_scope(site.engine) as s:
        for public_id in s.scalars(select(Message.public_id).where(Message.state == "unknown")).all():
            how = "sent" if public_id in taken else "resend"
            resolve(s, public_id, how)
            done[how] += 1
    return done


def _drill(server: PrefectServer, client: SyncPrefectClient, site: Site, company: DemoCompany,
           points: Points, switch: KillSwitch, log: Path) -> dict[str, Any]:
    worker: Worker | None = None
    outcome: dict[str, Any] = {"rounds": [], "resolved": Counter()}
    try:
        for _ in range(MAX_ROUNDS):
            switch.reset()
            worker = worker or Worker(server, site.env, log).start()
            run_id = trigger_daily(client, company.day)
            run = wait_for(client, run_id, until=switch.requested.is_set)
            if switch.requested.is_set():
                worker.kill(live_run_pids(client, run_id))
                worker = None
                mark_crashed(client, run_id)
                wait_for_backends_to_end(site.engine)
                let_leases_run_out(site.engine)
                switch.done.set()  # let the held request go: its client is gone
                outcome["rounds"].append("killed")
                continue
            assert run.state is not None
            outcome["rounds"].append(run.state.name)
            before = sum(outcome["resolved"].values())
            outcome["resolved"] += _settle_unknown(site)
            settled_now = sum(outcome["resolved"].values()) > before
            if run.state.is_completed() and not settled_now and not _unsettled(site.engine):
                return outcome
        raise AssertionError(f"the drill did not converge in {MAX_ROUNDS} rounds: {outcome}, "
                             f"unsettled {_unsettled(site.engine)}")
    finally:
        if worker is not None:
            worker.stop()


def _plan(rng: random.Random, switch: KillSwitch, engine: Engine, terminated: list[int] | None
          ) -> list[FaultPoint]:
    """Kill the worker at a seeded ATS request of the first ingest and at a seeded SendGrid request of
    the first sending; on PostgreSQL (`terminated` is given) drop every connection at a later ATS
    request and a later SendGrid request."""
    ats_kill, mail_kill = rng.randint(2, 12), rng.randint(3, 12)
    points = [FaultPoint("ats", ats_kill, switch.fire), FaultPoint("mail", mail_kill, switch.fire)]
    if terminated is not None:
        def drop() -> None:
            terminated.append(terminate_backends(engine))

        points += [FaultPoint("ats", ats_kill + rng.randint(5, 20), drop),
                   FaultPoint("mail", mail_kill + rng.randint(3, 10), drop)]
    return points


def _decisions(engine: Engine) -> Counter[tuple[str, str | None, str]]:
    with session_scope(engine) as s:
        return Counter(s.execute(
            select(Application.external_id, DecisionLog.old_status, DecisionLog.new_status)
            .join(Application, Application.id == DecisionLog.application_id)).all())


def _notices(engine: Engine) -> dict[str, tuple[str, str | None, str | None]]:
    """application external id -> (state, public id, provider id) of its notice."""
    with session_scope(engine) as s:
        rows = s.execute(select(Application.external_id, Message.state, Message.public_id,
                                Message.provider_message_id)
                         .join(Application, Application.id == Message.application_id)).all()
    return {ext: (state, pid, provider) for ext, state, pid, provider in rows}


def _ledger(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        referrals = s.scalar(select(func.count()).select_from(PartnerReferral)
                             .where(PartnerReferral.status == "registered")) or 0
        credits = s.scalar(select(func.coalesce(func.sum(PartnerLedgerEntry.credits), 0))
                           .where(PartnerLedgerEntry.kind == "earned")) or 0
    return int(referrals), int(credits)


def test_daily_converges_under_faults_to_the_fault_free_result(
    prefect_server: PrefectServer, engine: Engine, database_url: str, httpserver: HTTPServer,
    tmp_path: Path, sendgrid_fakes: list[SendGridFake],
) -> None:
    company = demo_company(tmp_path / "company")
    period = report_period(company.day)
    rng = random.Random(SEED)
    # SQLite has no server connections to drop: that fault is PostgreSQL-only.
    terminated: list[int] | None = [] if engine.dialect.name == "postgresql" else None

    with api(prefect_server) as client, scratch_database(database_url, tmp_path, "fault_free") as clean_url:
        # The fault-free run, into its own database.
        clean = _site("clean", clean_url, company, httpserver, tmp_path, sendgrid_fakes, faults=False)
        worker = Worker(prefect_server, clean.env, tmp_path / "worker-clean.log").start()
        try:
            run = wait_for(client, trigger_daily(client, company.day))
        finally:
            worker.stop()
        assert run.state is not None and run.state.is_completed(), (run.state, worker.log_tail())
        expected_kpis = kpis(clean.engine, period)
        expected_decisions = _decisions(clean.engine)
        expected_notices = _notices(clean.engine)
        expected_ledger = _ledger(clean.engine)
        clean.engine.dispose()

        # The drill, into the test database.
        switch = KillSwitch()
        points = Points()
        drilled = _site("drill", database_url, company, httpserver, tmp_path, sendgrid_fakes, faults=True,
                        points=points)
        points.points = _plan(rng, switch, engine, terminated)
        outcome = _drill(prefect_server, client, drilled, company, points, switch, tmp_path / "worker.log")

    # The faults did happen.
    assert all(p.fired for p in points.points), points.points
    assert outcome["rounds"].count("killed") == 2, outcome
    assert drilled.ats.faults.injected > 0 and drilled.ats.faults.truncated > 0
    assert drilled.partner.faults.injected > 0
    assert drilled.sendgrid.responder is not None
    assert terminated is None or (len(terminated) == 2 and all(n > 0 for n in terminated)), terminated

    # Each decision was ingested once: the same status changes as the clean run, none twice.
    decisions = _decisions(engine)
    assert decisions == expected_decisions and max(decisions.values()) == 1

    # Each due notice was sent exactly once (or settled from `unknown`), and the clean run's notices
    # are exactly the drilled run's.
    notices = _notices(engine)
    assert {k: v[0] for k, v in notices.items()} == {k: v[0] for k, v in expected_notices.items()}
    log = drilled.sendgrid.snapshot()
    taken = Counter(r.junkan_message_id for r in log if r.status == 202)
    assert max(taken.values()) == 1, "a notice reached SendGrid twice"
    accepted = {pid: provider for state, pid, provider in notices.values() if state == "accepted"}
    # The fake's request log matches the outbox: what it took is what the outbox holds as accepted,
    # with the provider's id wherever the answer came back (a settled crash leftover never got one).
    assert set(taken) == set(accepted)
    answered = {r.junkan_message_id: r.message_id for r in log if r.status == 202}
    assert all(provider is None or answered[pid] == provider for pid, provider in accepted.items())
    assert outcome["resolved"]["sent"] >= 1, outcome  # the notice held at the kill while sending

    # The credit ledger equals the partner's counts.
    registrations = registered_every_third(engine)
    referrals, credits = _ledger(engine)
    assert referrals == len(registrations) and credits == len(registrations) // REGISTRATIONS_PER_CREDIT
    assert (referrals, credits) == expected_ledger and credits > 0

    # Every KPI equals the fault-free run's.
    got = kpis(engine, period)
    assert got.keys() == expected_kpis.keys()
    assert {k: v for k, v in got.items() if v != expected_kpis[k]} == {}
