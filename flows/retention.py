"""`retention`: anonymise who the retention rules say is due (docs/privacy.md). Last in `daily`.

The artifact `retention` holds counts only: candidates per rule and rows per table. `dry_run` lists
what would be anonymised, by rule and count, and changes nothing.
"""

from __future__ import annotations

from flows.artifacts import publish_counts
from flows.declare import junkan_flow
from flows.params import OptionalDay, as_of_field, dry_run_field, ja_en
from flows.results import FlowResult
from tasks.retention import anonymise_due_task

ARTIFACT_KEY = "retention"

DRY_RUN_HELP = ja_en(
    "匿名化の対象をルールごとの件数で示すだけです（アーティファクト retention-dry-run）。何も変更しません。",
    "List who would be anonymised, by rule and count (artifact `retention-dry-run`); nothing is changed.")


@junkan_flow("retention",
             description=ja_en(
                 "保存期間のルールで期限が来た候補者を匿名化します：タレントプールへの同意がない不採用・辞退者"
                 "（設定日数の経過後）と、同意が切れたプールの人。採用した人には触れません。daily の最後。"
                 "アーティファクトは件数のみ。",
                 "Anonymise the candidates the retention rules say are due: rejected or withdrawn "
                 "without talent-pool consent after the configured days, pool members whose consent lapsed. "
                 "Hired candidates are never touched. Last in `daily`; counts only in its artifact."))
def retention(as_of: OptionalDay = as_of_field(),
              dry_run: bool = dry_run_field(DRY_RUN_HELP)) -> FlowResult:
    counts = anonymise_due_task(as_of=as_of, dry_run=dry_run)
    verb = ("匿名化の対象（試行、変更なし）", "due (dry run, nothing changed)") if dry_run \
        else ("匿名化した", "anonymised")
    publish_counts(ARTIFACT_KEY, counts, dry_run=dry_run,
                   description=ja_en(f"保存期間：ルールごとの{verb[0]}候補者数と、表ごとの消去した行数（件数のみ）",
                                     f"Retention: candidates {verb[1]} per rule, rows scrubbed per table "
                                     "(counts only)"))
    return FlowResult(counts)
