"""Explanations: the recruiter's sentence, matched and missing skills, buckets; NFKC-aware matching."""

from __future__ import annotations

from junkan.pool.explain import bucket, explain
from junkan.pool.matcher import location_keys, normalize, skill_key


def test_the_explanation_names_matched_skills_stage_and_pool_reason() -> None:
    why = explain(
        required=("Python", "Go", "SQL", "AWS"), preferred=(), candidate_keys={"python", "go", "sql", "aws"},
        key=skill_key, text_score=0.1, last_title=None, location_match=False, location=None,
        stage_level=3, pool_why="他の候補者を優先",
    )
    assert why.why == "必須スキル 4/4 一致（Python、Go、SQL、AWS）、前回は最終面接まで、他の候補者を優先"
    assert why.matched_required == ["Python", "Go", "SQL", "AWS"]
    assert why.missing_required == []


def test_missing_required_and_matched_preferred_skills_are_listed_in_the_openings_order() -> None:
    why = explain(
        required=("Go", "Kubernetes", "SQL"), preferred=("Docker", "Terraform"),
        candidate_keys={skill_key("ＳＱＬ"), "docker"}, key=skill_key, text_score=0.5,
        last_title="インフラエンジニア", location_match=True, location="東京都", stage_level=1,
        pool_why="ポジション充足",
    )
    assert why.matched_required == ["SQL"]
    assert why.missing_required == ["Go", "Kubernetes"]
    assert why.matched_preferred == ["Docker"]
    assert why.why == ("必須スキル 1/3 一致（SQL）、不足：Go、Kubernetes、歓迎スキル 1/2 一致（Docker）、"
                       "過去の応募（インフラエンジニア）と職種が近い、勤務地が合う（東京都）、前回は一次面接まで、"
                       "ポジション充足")


def test_a_stage_reached_only_before_the_last_application_is_not_called_the_last_one() -> None:
    """The shortlist's 前回の選考段階 is the last application's stage: the sentence must not contradict it."""
    def said(best: int, last: int) -> str:
        return explain(required=(), preferred=(), candidate_keys=set(), key=skill_key, text_score=0.0,
                       last_title=None, location_match=False, location=None, stage_level=best,
                       last_stage_level=last, pool_why="ポジション充足").why

    assert said(3, 3) == "前回は最終面接まで、ポジション充足"
    assert said(3, 0) == "以前の応募で最終面接まで、ポジション充足"
    assert said(2, 1) == "以前の応募で二次面接まで、ポジション充足"
    assert said(0, 0) == "ポジション充足"


def test_buckets_follow_the_configured_limits() -> None:
    assert bucket(70.0, 70.0, 50.0) == "強い一致"
    assert bucket(69.9, 70.0, 50.0) == "良い一致"
    assert bucket(50.0, 70.0, 50.0) == "良い一致"
    assert bucket(49.9, 70.0, 50.0) == "部分一致"


def test_nfkc_makes_half_width_katakana_and_full_width_latin_compare_equal() -> None:
    assert normalize("ｶｽﾀﾏｰｻｸｾｽ") == normalize("カスタマーサクセス")
    assert normalize("ＰＹＴＨＯＮ") == "python"
    assert skill_key("Ｐｙｔｈｏｎ ") == skill_key("python")


def test_locations_compare_by_prefecture_and_remote_matches_everyone() -> None:
    assert location_keys("東京都渋谷区")[0] == {"東京都"}
    assert location_keys("大阪府、京都府")[0] == {"大阪府", "京都府"}
    assert location_keys("神奈川県横浜市")[0] == {"神奈川県"}
    assert location_keys("フルリモート") == (set(), True)
    assert location_keys(None) == (set(), False)
