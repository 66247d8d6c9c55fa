"""A pool for the partition tests: ten identical people (ties at the cut), varied others, three openings,
people who already applied to one of them, and people found only through the vocabulary (synonyms,
occupation families, a link learned from two people who applied to two jobs), and one person whose own
stated interest (the preference page) is a column of the product too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from junkan.consent.preferences import Preferences, record_preferences
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from tests.integration._pool_data import NOW, add_application, add_job, add_member


@dataclass(frozen=True)
class PartitionPool:
    backend_job: int
    sales_job: int
    #: Found only through the vocabulary: no character in common with the sales job. The second one chose
    #: 法人営業 on their own page.
    synonyms: list[int]
    twins: list[int]
    applied: list[int]
    members: int


def add_partition_pool(s: Session) -> PartitionPool:
    backend = add_job(s, "バックエンドエンジニア", required=["Python", "Go", "SQL"], preferred=["Docker"],
                      location="東京都", opened_at=NOW - timedelta(days=3),
                      description="Go と Python で決済基盤を開発します")
    sales = add_job(s, "法人営業", required=["法人営業", "Salesforce"], location="大阪府",
                    opened_at=NOW - timedelta(days=2))
    add_job(s, "データエンジニア", required=["SQL", "Python"], location="フルリモート",
            opened_at=NOW - timedelta(days=1))
    twins = [add_member(s, skills=["Python", "Go"]).id for _ in range(10)]
    varied = [
        add_member(s, skills=["Python", "Go", "SQL"], tags=["Docker"]),
        add_member(s, skills=["ＳＱＬ", "python"], past_title="ﾃﾞｰﾀｴﾝｼﾞﾆｱ", location="神奈川県横浜市"),
        add_member(s, skills=["法人営業"], past_title="法人営業", location="大阪府大阪市"),
        add_member(s, skills=["法人営業", "英語"], past_title="インサイドセールス", stage="一次面接",
                   category="skills", location="大阪府"),
        add_member(s, skills=["SQL"], past_title="データアナリスト", stage="二次面接", location="福岡県"),
        add_member(s, skills=["Go"], past_title="インフラエンジニア", category="final_interview"),
        add_member(s, past_title="経理", location=None, stage=None),
    ]
    sellers = [add_member(s, skills=["法人営業"], past_title="法人営業", location="大阪府") for _ in range(2)]
    synonyms = [add_member(s, skills=["BtoB営業", "SFDC"], past_title="アカウントエグゼクティブ",
                           location="大阪府"),
                add_member(s, skills=["SFDC"], past_title="BtoBセールス", location="京都府")]
    record_preferences(s, synonyms[1].id, Preferences(families=("corporate_sales",)),
                       at=NOW - timedelta(days=5), wording_version=PREFERENCE_WORDING_VERSION)
    # Their application was to the open backend job itself: never matched to it, still to the others.
    applied = []
    for _ in range(3):
        person = add_member(s, skills=["Python", "Go", "SQL"])
        add_application(s, person, backend, decided_at=NOW - timedelta(days=200))
        applied.append(person.id)
    return PartitionPool(backend_job=backend.id, sales_job=sales.id, synonyms=[p.id for p in synonyms],
                         twins=twins, applied=applied,
                         members=len(twins) + len(varied) + len(sellers) + len(synonyms) + len(applied))
