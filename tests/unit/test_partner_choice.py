"""Choosing the partner of a notice: eligibility by job or department, a stable weighted pick."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from junkan.config import PartnerSettings
from junkan.partner.choice import choose_partner, hash_point

A = PartnerSettings(name="alpha")
B = PartnerSettings(name="beta", share=3)
SALES = PartnerSettings(name="sales-only", departments=["営業部"])
JOB = PartnerSettings(name="job-only", jobs=["J-7"])


def _split(partners: list[PartnerSettings], n: int = 1000, **where: str) -> Counter[str | None]:
    return Counter(choose_partner(partners, source="csv", external_id=f"A-{i}", **where) for i in range(n))


def test_two_partners_split_by_share_and_a_rerun_picks_the_same() -> None:
    first = _split([A, B])
    # 1000 draws at 1/4 : 3/4 (binomial sd ≈ 14): well inside ±50 unless the pick is biased.
    assert abs(first["alpha"] - 250) <= 50 and abs(first["beta"] - 750) <= 50
    assert first["alpha"] + first["beta"] == 1000
    picks = [choose_partner([A, B], source="csv", external_id=f"A-{i}") for i in range(200)]
    assert picks == [choose_partner([A, B], source="csv", external_id=f"A-{i}") for i in range(200)]


def test_the_same_id_in_another_source_is_another_application() -> None:
    points = {hash_point(source, "A-1") for source in ("csv", "greenhouse", "lever")}
    assert len(points) == 3 and all(0 <= p < 1 for p in points)


def test_a_partner_limited_to_a_department_only_gets_that_department() -> None:
    assert set(_split([A, SALES], department="開発部")) == {"alpha"}
    sales = _split([A, SALES], department="営業部")
    assert set(sales) == {"alpha", "sales-only"} and abs(sales["sales-only"] - 500) <= 60


def test_a_partner_limited_to_jobs_and_no_eligible_partner() -> None:
    assert set(_split([JOB], n=50, job_external_id="J-7")) == {"job-only"}
    assert set(_split([JOB, SALES], n=50, job_external_id="J-8", department="開発部")) == {None}


def test_a_share_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        PartnerSettings(name="x", share=0)
