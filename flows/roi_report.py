"""`roi-report`: the KPI and ROI report for a period (the previous month by default).

Not part of `daily`: it has its own monthly deployment (the 1st, 09:00 Asia/Tokyo) and can be run by hand
with a typed period in the Prefect UI.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from prefect import flow
from pydantic import BaseModel, Field, model_validator

from flows.declare import schema_checked
from flows.params import Day, OptionalDay, as_of_field, blankable, ja_en, run_namer
from junkan.clock import RunClock
from junkan.reports.periods import Period, previous_month
from junkan.runtime import clock_for, settings
from tasks.report import build, mail, publish, write


class ReportPeriod(BaseModel):
    """The report's period in the form: two local days, both inclusive."""

    start: Day = Field(title=ja_en("初日", "First day"),
                       description=ja_en("初日（YYYY-MM-DD、日本時間）",
                                         "First day (YYYY-MM-DD, Asia/Tokyo)."))
    end: Day = Field(title=ja_en("最終日", "Last day"),
                     description=ja_en("最終日（この日を含む。YYYY-MM-DD、日本時間）",
                                       "Last day, included (YYYY-MM-DD, Asia/Tokyo)."))

    @model_validator(mode="after")
    def _in_order(self) -> ReportPeriod:
        Period(self.start, self.end)  # refuses an end before the start, in its own words
        return self


def default_period(clock: RunClock) -> Period:
    """The calendar month before the run's day."""
    return previous_month(clock.day)


def chosen_period(period: ReportPeriod | dict[str, Any] | None, as_of: date | None) -> Period:
    if period is None:
        return default_period(clock_for(settings(), as_of))
    chosen = ReportPeriod.model_validate(period)
    return Period(chosen.start, chosen.end)


def _label(parameters: dict[str, Any]) -> str:
    as_of = parameters.get("as_of")
    day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return chosen_period(parameters.get("period"), day).label


@flow(name="roi-report", log_prints=False, flow_run_name=run_namer("roi-report", _label),
      description=ja_en(
          "採用 KPI・ROI レポート：HTML・PDF・Excel・JSON のファイルと、主要指標の表（アーティファクト）を"
          "作成します。毎月1日 9:00（日本時間）に前月分を作り、PDF を社内の配布先"
          "（JUNKAN_REPORT__RECIPIENTS）にメールで1回だけ送ります。手動では任意の期間を対象にします。",
          "The KPI and ROI report of a period: HTML, PDF, Excel and JSON files and the headline figures as "
          "artifacts. On the 1st at 09:00 Asia/Tokyo for the previous month, its PDF mailed once to the "
          "internal recipients (JUNKAN_REPORT__RECIPIENTS); by hand for any period."))
@schema_checked
def roi_report(
    period: blankable(ReportPeriod) = Field(  # type: ignore[valid-type]
        None, description=ja_en("対象期間。空欄なら基準日の前月。"
                                "メールで配布するのは締まった1か月分だけです。",
                                "The days to report on. Empty: the calendar month before `as_of`. Only a "
                                "whole month that has ended is mailed.")),
    as_of: OptionalDay = as_of_field(ja_en("期間が空欄のとき、この日の前月を対象にします"
                                           "（YYYY-MM-DD、日本時間）。空欄なら今日（＝先月分）。",
                                           "Without a period: report on the month before this day "
                                           "(YYYY-MM-DD, Asia/Tokyo). Empty: today, i.e. last month.")),
    lang: Literal["ja", "en"] = Field("ja", description=ja_en(
        "ファイルとアーティファクトの言語（ja または en）。",
        "Language of the files and artifacts: ja or en.")),
    recompute: bool = Field(False, description=ja_en(
        "保存済みの集計を使わず、この期間を計算し直します（配布済みのメールは送り直しません）。",
        "Replace the stored snapshot of this period instead of showing the figures computed before (a "
        "report already mailed is not mailed again).")),
) -> dict[str, Any]:
    chosen = chosen_period(period, as_of)
    report = build(chosen.start, chosen.end, recompute)
    files = write(report, lang)
    mailed = mail(report, files, lang)
    artifacts = publish(report, lang, mailed["note"])
    k = report.kpis
    return {
        "period": chosen.label,
        "computed": report.computed_now,
        "files": files,
        "mail": mailed["counts"],
        "artifacts": artifacts["tables"],
        **{n: k[n]["value"] for n in ("applications", "hires", "rejections", "follow_up_rate")},
    }
