"""Links learned from history: each needs enough people, and keeps its evidence (docs/pool.md)."""

from __future__ import annotations

from junkan.pool.vocabulary.learned import (
    LearnedFamily,
    LearnedRename,
    LearnedSkill,
    RenamedJob,
    learn_families,
    learn_renames,
    learn_skills,
)

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


TITLE_FAMILY = {"法人営業": "corporate_sales", "バックエンドエンジニア": "backend", "営業事務": "sales_admin"}


def test_a_rename_links_the_title_that_names_no_family_to_the_one_that_does() -> None:
    jobs = [
        # An old name of a 法人営業 job; a title the vocabulary knows is left to the vocabulary.
        RenamedJob("corporate_sales", "法人営業", ("ソリューションパートナー", "営業事務", "法人営業")),
        # A job renamed to an in-house name: the new name takes the newest old name's family.
        RenamedJob(None, "Xチーム開発", ("ふしぎな係", "バックエンドエンジニア")),
        # Renamed between two names the vocabulary does not know: nothing to learn.
        RenamedJob(None, "ふしぎな係2", ("ふしぎな係3",)),
    ]
    learned = learn_renames(jobs, TITLE_FAMILY.get, str)
    assert learned == {
        "ソリューションパートナー": LearnedRename("corporate_sales", "ソリューションパートナー", "法人営業"),
        "Xチーム開発": LearnedRename("backend", "バックエンドエンジニア", "Xチーム開発"),
    }


def test_renamed_jobs_that_disagree_about_a_title_give_the_family_most_of_them_give() -> None:
    jobs = [RenamedJob("backend", "バックエンドエンジニア", ("開発メンバー",)),
            RenamedJob("corporate_sales", "法人営業", ("開発メンバー",)),
            RenamedJob("corporate_sales", "法人営業 大阪", ("開発メンバー",))]
    assert learn_renames(jobs, TITLE_FAMILY.get, str)["開発メンバー"].family == "corporate_sales"
