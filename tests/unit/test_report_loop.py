"""The loop's pool row in shortlist mode: the recruiters contact the shortlisted people, no one is mailed."""

from __future__ import annotations

from typing import Any

from junkan.reports.charts import loop_chart, loop_stages

#: A shortlist-only month as build_report computes it: 40 in the pool, 5 people matched in shortlist
#: runs (7 person-position pairs), no re-contact mail, 2 of the listed people applied again.
SHORTLIST_MONTH: dict[str, Any] = {
    "pool_size": {"value": 40, "inputs": {}, "apart": {}},
    "pool_matched": {"value": 5, "inputs": {}, "apart": {"matches": 7, "shortlisted": 5, "auto_matched": 0}},
    "recontacts_sent": {"value": 0, "inputs": {"sent": 0}, "apart": {}},
    "reapplications_via_recontact": {"value": 2, "inputs": {"contacted": 2}, "apart": {}},
    "hires_from_pool": {"value": 1, "inputs": {}, "apart": {}},
}


def test_in_shortlist_mode_the_step_after_the_match_is_the_shortlist_not_zero_recontacts() -> None:
    pool = [stage[:2] for stage in loop_stages(SHORTLIST_MONTH, "ja")[2]]
    assert pool == [("タレントプール", 40.0), ("マッチ（7組）", 5.0),
                    ("候補リスト\n（採用担当者が連絡）", 5.0), ("再応募", 2.0), ("採用", 1.0)]
    english = [stage[0] for stage in loop_stages(SHORTLIST_MONTH, "en")[2]]
    assert english[2] == "Shortlisted\n(recruiters contact)"


def test_the_loop_says_under_it_that_recruiters_contact_the_shortlisted_people() -> None:
    assert loop_chart(SHORTLIST_MONTH, "ja").note == (
        "候補リストの人にはメールを送らず、採用担当者が直接連絡します。候補リストからの応募も再応募に数えます。")
    assert loop_chart(SHORTLIST_MONTH, "en").note.startswith("Shortlisted people get no mail")


def test_an_auto_month_keeps_the_recontact_step_and_says_nothing_of_shortlists() -> None:
    auto = {**SHORTLIST_MONTH,
            "pool_matched": {"value": 5, "inputs": {}, "apart": {"matches": 5, "shortlisted": 0,
                                                                 "auto_matched": 5}},
            "recontacts_sent": {"value": 4, "inputs": {"sent": 4}, "apart": {}}}
    assert loop_stages(auto, "ja")[2][2][:2] == ("再コンタクト", 4.0)
    assert loop_chart(auto, "ja").note == ""
