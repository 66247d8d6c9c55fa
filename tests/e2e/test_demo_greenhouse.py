"""The fault drill's ATS: the demo company served by the Greenhouse fake ingests as its CSV export does."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select

from junkan.ats.factory import build_adapter
from junkan.ats.greenhouse import RATE_LIMIT_WINDOW_S, GreenhouseAdapter
from junkan.config import AtsSettings
from junkan.db import session_scope
from junkan.db.models import Application, Consent
from junkan.ingest import ingest
from tests.db_support import wipe
from tests.e2e._demo_greenhouse import from_demo
from tests.e2e._scenario import demo_company
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseFake


def _stored(engine: Engine) -> tuple[dict[str, str], int]:
    """(status by application number, consent rows)."""
    with session_scope(engine) as s:
        apps = {ext.removeprefix("A"): status for ext, status in s.execute(
            select(Application.external_id, Application.status))}
        consents = s.scalar(select(func.count()).select_from(Consent)) or 0
    return apps, consents


def test_the_greenhouse_copy_of_the_demo_company_ingests_like_the_export(
    engine: Engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    company = demo_company(tmp_path)
    csv = build_adapter(AtsSettings(kind="csv", path=company.export, jobs_path=company.jobs_sheet))
    from_csv = ingest(engine, csv)
    csv_apps, csv_consents = _stored(engine)
    wipe(engine)
    fake = GreenhouseFake(httpserver, from_demo(company.export, company.jobs_sheet))
    clock = FakeClock()
    client = client_for("greenhouse", clock, rate_limit_window_s=RATE_LIMIT_WINDOW_S)
    from_greenhouse = ingest(engine, GreenhouseAdapter(client, **fake.adapter_kwargs(), per_page=100))
    gh_apps, gh_consents = _stored(engine)

    assert from_greenhouse.quarantined == from_csv.quarantined == company.stats.malformed - 1
    assert len(gh_apps) == len(csv_apps) == company.stats.applications - from_csv.quarantined
    assert gh_apps == csv_apps
    # Greenhouse keeps one answer per candidate, the export one per application: a re-applicant who
    # answered differently the first time has one statement fewer.
    assert 0.95 * csv_consents <= gh_consents <= csv_consents
