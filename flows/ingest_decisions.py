"""`ingest-decisions`: pull changed applications from the ATS, upsert them, quarantine bad records."""

from __future__ import annotations

from pydantic import Field

from flows.artifacts import publish_counts
from flows.declare import junkan_flow
from flows.params import OptionalDay, as_of_field, ja_en
from flows.results import FlowResult
from tasks.ingest import ingest_applications_task

ARTIFACT_KEY = "ingest-decisions-counts"
#: The figures an operator checks after a run, in this order (labels: junkan/count_labels.py).
ARTIFACT_ROWS = ("new", "updated", "rejected", "hired", "withdrawn", "reapplied", "quarantined",
                 "reference_quarantined", "no_address", "erased")


@junkan_flow("ingest-decisions",
             description=ja_en(
                 "ATS から新しい・変わった選考結果を取り込んで保存し、不正なレコードは隔離します。"
                 "daily の一部。過去の日を読み直すときは手動で実行します。",
                 "Pull new and changed hiring decisions from the ATS, store them, and quarantine "
                 "bad records. Part of `daily`; run it by hand to re-read a past day."))
def ingest_decisions(
    as_of: OptionalDay = as_of_field(ja_en(
        "この日以降を ATS から読み直します（YYYY-MM-DD、日本時間）。空欄なら前回の続きから。",
        "Re-read the ATS from this day on (YYYY-MM-DD, Asia/Tokyo), as if the watermark were there. "
        "Empty: from the watermark.")),
    full_refresh: bool = Field(False, description=ja_en(
        "前回の続きではなく、ATS のすべての応募を読み直します。"
        "何度実行しても二重に保存せず、メールも送りません。",
        "Ignore the watermark and re-read every application the ATS has. Safe to repeat: nothing is stored "
        "twice, no mail is sent.")),
) -> FlowResult:
    counts = ingest_applications_task(as_of=as_of, full=full_refresh)
    publish_counts(
        ARTIFACT_KEY,
        [(key, counts[key]) for key in ARTIFACT_ROWS],
        description=ja_en(
            "選考結果の取り込み：新規・更新・不採用・採用・辞退・再応募の応募数と隔離したレコード数"
            "（求人・募集枠・理由は別）。宛先なし＝保存して確認待ち、消去済み＝消去した人の記録で読み飛ばし"
            f"（変更なし {counts['unchanged']}、不採用の取り消し {counts['unrejected']}）",
            "Decision ingest: applications new, updated, rejected, hired, withdrawn, re-applied "
            "and records quarantined (jobs, openings and reasons apart); no address: stored, listed for "
            "review; erased: records of erased people, skipped "
            f"(unchanged: {counts['unchanged']}, un-rejected: {counts['unrejected']})"),
    )
    return FlowResult(counts)
