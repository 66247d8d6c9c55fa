"""Links learned from history: each needs enough people, and keeps its evidence (docs/pool.md)."""

from __future__ import annotations

from junkan.pool.vocabulary.learned import LearnedFamily, LearnedSkill, learn_families, learn_skills

FAMILY = {1: "backend", 2: "corporate_sales", 3: None}
TITLE = {1: "バックエンドエンジニア", 2: "法人営業", 3: "〇〇プロダクトの開発"}


def test_a_job_takes_the_family_most_of_its_applicants_also_applied_to() -> None:
    past = [(1, 3), (3, 1), (1, 3), (2, 3), (3,), (1,)]
    learned = learn_families(past, FAMILY.get, TITLE.__getitem__)
    assert learned == {3: LearnedFamily("backend", "バックエンドエンジニア", 3)}


def test_one_person_is_not_enough() -> None:
    assert learn_families([(1, 3), (2,)], FAMILY.get, TITLE.__getitem__) == {}


def test_a_skill_links_to_what_most_of_its_holders_have() -> None:
    people = [("≡Python", "社内基盤x")] * 3 + [("社内基盤x",)] * 2 + [("≡Go", "社内基盤x")]
    learned = learn_skills(people, lambda k: k.startswith("≡"), str)
    assert learned == {"社内基盤x": LearnedSkill("社内基盤x", "≡Python", 3, 6)}
    # Under half of its holders: no link (3 of 7).
    assert learn_skills([*people, ("社内基盤x",)], lambda k: k.startswith("≡"), str) == {}
