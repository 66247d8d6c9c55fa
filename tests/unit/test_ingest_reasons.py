"""Rejection reason -> category and pool eligibility (docs/ingest.md "Rejection reason mapping")."""

from __future__ import annotations

from pathlib import Path

import pytest

from junkan.ingest.reasons import MAPPING_VERSION, Classification, ReasonMapping, default_mapping


@pytest.mark.parametrize(
    ("name", "category", "eligibility"),
    [
        ("スパム", "spam", "never"),
        ("SPAM応募", "spam", "never"),
        ("重複応募", "duplicate", "never"),
        ("Duplicate application", "duplicate", "never"),
        ("経歴詐称", "misconduct", "never"),
        ("Misrepresented experience", "misconduct", "never"),
        ("他の候補者を優先", "other_candidate", "silver"),
        ("Hired another candidate", "other_candidate", "silver"),
        ("ポジション充足", "position_filled", "silver"),
        ("採用枠充足のため", "position_filled", "silver"),
        ("Position filled", "position_filled", "silver"),
        ("最終面接不合格", "final_interview", "standard"),
        ("スキル不足", "skills", "standard"),
        ("ｽｷﾙ不足", "skills", "standard"),  # half-width katakana from old exports
        ("Lacking skill(s)/qualification(s)", "skills", "standard"),
        ("経験不足", "experience", "standard"),
        ("カルチャーフィット", "culture_fit", "standard"),
        ("希望年収の不一致", "compensation", "standard"),
        ("面接無断欠席", "no_show", "standard"),
        ("総合的判断", "other", "standard"),
        ("", "other", "standard"),
    ],
)
def test_default_mapping(name: str, category: str, eligibility: str) -> None:
    assert default_mapping().classify(name) == Classification(category, eligibility, MAPPING_VERSION)


def test_never_rules_win_over_everything_else() -> None:
    # A duplicate application stays out of the pool even though the text also talks about skills.
    assert default_mapping().classify("重複応募 (スキル不足)").pool_eligibility == "never"
    assert default_mapping().classify("経歴詐称 / 他の候補者を優先").category == "misconduct"


def test_withdrawals_are_their_own_category_unless_a_never_rule_matches() -> None:
    mapping = default_mapping()
    assert mapping.classify("他社内定のため辞退", kind="withdrawn") == Classification(
        "withdrawn", "standard", MAPPING_VERSION)
    assert mapping.classify("Took another offer", kind="withdrawn").category == "withdrawn"
    assert mapping.classify("スパム", kind="withdrawn").pool_eligibility == "never"
    assert mapping.classify("Hired - full time", kind="hired").category == "hired"


def test_final_interview_stage_makes_a_vague_reason_final_interview() -> None:
    mapping = default_mapping()
    vague = mapping.classify("総合的判断")
    assert mapping.for_application(vague, "最終面接").category == "final_interview"
    assert mapping.for_application(vague, "Final Interview (onsite)").category == "final_interview"
    assert mapping.for_application(vague, "一次面接").category == "other"
    assert mapping.for_application(None, "役員面接") == Classification("final_interview", "standard",
                                                                   MAPPING_VERSION)
    # Stronger statements keep their category even at the final stage.
    preferred = mapping.classify("他の候補者を優先")
    assert mapping.for_application(preferred, "最終面接").category == "other_candidate"
    assert mapping.for_application(mapping.classify("スパム"), "最終面接").pool_eligibility == "never"


def test_override_file_rules_come_first_and_the_version_records_both(tmp_path: Path) -> None:
    path = tmp_path / "reasons.toml"
    path.write_text(
        'version = "acme-3"\n'
        "[[rules]]\n"
        'category = "referral_declined"\n'
        'pool_eligibility = "silver"\n'
        'keywords = ["リファラル"]\n'
        "[[rules]]\n"
        'category = "skills_gap"\n'
        'pool_eligibility = "standard"\n'
        'keywords = ["スキル"]\n',
        encoding="utf-8",
    )
    mapping = ReasonMapping.load(path)
    assert mapping.version == f"{MAPPING_VERSION}+acme-3"
    assert mapping.classify("リファラル経由で他決") == Classification("referral_declined", "silver",
                                                               mapping.version)
    assert mapping.classify("スキル不足").category == "skills_gap"
    assert mapping.classify("スパム").category == "spam"  # built-in rules still apply after the custom ones


def test_override_can_replace_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "reasons.json"
    path.write_text('{"version": "only-mine", "replace_defaults": true, "default_category": "misc",'
                    ' "rules": [{"category": "bad", "pool_eligibility": "never", "keywords": "NG"}]}',
                    encoding="utf-8")
    mapping = ReasonMapping.load(path)
    assert mapping.version == "only-mine"
    assert mapping.classify("ng判定") == Classification("bad", "never", "only-mine")
    assert mapping.classify("スパム") == Classification("misc", "standard", "only-mine")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": []}, "version"),
        ({"version": "x", "rules": [{"category": "a", "pool_eligibility": "gold", "keywords": ["k"]}]},
         "pool_eligibility"),
        ({"version": "x", "rules": [{"category": "a", "pool_eligibility": "never", "keywords": []}]},
         "no keywords"),
        ({"version": "x", "replace_defaults": True, "rules": []}, "at least one rule"),
    ],
)
def test_invalid_override_files_are_refused_with_a_clear_message(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReasonMapping.from_dict(data)
