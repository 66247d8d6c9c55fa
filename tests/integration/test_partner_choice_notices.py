"""Several partners: each notice carries the link of one eligible partner, picked stably by share."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select, update

from junkan.config import PartnerSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Application, Job, Message
from junkan.db.models_engagement import Click
from junkan.outbox.enqueue import enqueue_due_notices
from junkan.partner.choice import choose_partner
from junkan.reports.build import build_report
from junkan.reports.periods import month
from tests.integration._outbox_data import SEND_NOW, add_application, jst


def _two_partners(settings: Settings, *extra: PartnerSettings) -> Settings:
    return settings.model_copy(update={"partners": [
        PartnerSettings(name="alpha", display_name="アルファ"),
        PartnerSettings(name="beta", display_name="ベータ", share=2), *extra]})


def _add(engine: Engine, n: int, department: str | None = None) -> None:
    with session_scope(engine) as s:
        for _ in range(n):
            app = add_application(s, partner_consent=True)
            if department:
                s.execute(update(Job).where(Job.id == app.job_id).values(department=department))


def _partners(engine: Engine) -> dict[str, str | None]:
    with session_scope(engine) as s:
        return {external_id: partner for external_id, partner in s.execute(
            select(Application.external_id, Message.partner_name)
            .join(Message, Message.application_id == Application.id))}


def test_two_partners_split_the_notices_by_share_and_the_report_compares_them(
    engine: Engine, settings: Settings
) -> None:
    settings = _two_partners(settings)
    _add(engine, 300)
    with session_scope(engine) as s:
        planned = enqueue_due_notices(s, settings, SEND_NOW, dry_run=True).planned
        s.rollback()
    with session_scope(engine) as s:
        assert enqueue_due_notices(s, settings, SEND_NOW).enqueued == 300
    chosen = _partners(engine)
    split = Counter(chosen.values())
    # 1 : 2 over 300 applications (binomial sd ≈ 8): within ±40 unless the pick is biased.
    assert set(split) == {"alpha", "beta"} and abs(split["alpha"] - 100) <= 40
    # Stable: the dry run planned the same partners, and the pick is the application's own.
    with session_scope(engine) as s:
        ids = {app_id: external_id for app_id, external_id in s.execute(
            select(Application.id, Application.external_id))}
    assert {ids[p.application_id]: p.partner_name for p in planned} == chosen
    assert all(choose_partner(settings.all_partners(), source="csv", external_id=e) == p
               for e, p in chosen.items())

    with session_scope(engine) as s:  # one partner-link click per notice
        for message_id in s.scalars(select(Message.id)):
            s.add(Click(message_id=message_id, link="partner", clicked_at=jst(2026, 11, 20, 12, 0)))
    clicks = build_report(engine, settings, month(2026, 11), trend_months=0).kpis["partner_link_clicks"]
    side_by_side = {r["dims"]["partner"]: r["value"] for r in clicks["breakdown"]}
    assert side_by_side == {"alpha": split["alpha"], "beta": split["beta"]}


def test_a_partner_limited_to_a_department_only_gets_that_departments_notices(
    engine: Engine, settings: Settings
) -> None:
    settings = _two_partners(settings, PartnerSettings(name="sales", departments=["営業部"], share=3))
    _add(engine, 60, department="営業部")
    _add(engine, 60, department="開発部")
    with session_scope(engine) as s:
        enqueue_due_notices(s, settings, SEND_NOW)
        by_department = Counter((department, partner) for department, partner in s.execute(
            select(Job.department, Message.partner_name)
            .join(Application, Application.job_id == Job.id)
            .join(Message, Message.application_id == Application.id)))
    assert {p for d, p in by_department if d == "開発部"} == {"alpha", "beta"}
    assert by_department[("営業部", "sales")] > 0
    assert sum(n for (d, p), n in by_department.items() if p == "sales") == by_department[("営業部", "sales")]
