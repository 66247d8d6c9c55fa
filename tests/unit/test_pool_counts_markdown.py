"""The re-contact run's artifact as an operator reads it in the Prefect UI: Japanese first, English beside,
the figures of the lift measurement in their own rows."""

from __future__ import annotations

from junkan.pool.attribution import Group, Lift
from junkan.pool.report import counts_markdown


def test_the_lift_table_reads_in_japanese_first_with_each_group_and_the_ratio() -> None:
    lift = Lift(contacted=Group(people=40, reapplied=6), holdout=Group(people=10, reapplied=1))
    text = counts_markdown({"matches": 12, "excluded_cooldown": 3}, mode="auto", dry_run=False, lift=lift)
    lines = text.splitlines()
    assert "| メール送信 | mailed | 40 | 6 | 15.0% |" in lines
    assert "| 送らずに比較（ホールドアウト） | held out | 10 | 1 | 10.0% |" in lines
    assert "リフト（送信群の率 ÷ ホールドアウト群の率）/ Lift (mailed rate / held-out rate): 1.50×" in lines


def test_without_anyone_measured_there_is_no_lift_table() -> None:
    nobody = Group(people=0, reapplied=0)
    text = counts_markdown({"matches": 0}, mode="auto", dry_run=True,
                           lift=Lift(contacted=nobody, holdout=nobody))
    assert "リフト" not in text and "再コンタクト後の再応募" not in text
    assert text.splitlines()[0] == "# 再コンタクト / Re-contact（auto、ドライラン / dry run）"
