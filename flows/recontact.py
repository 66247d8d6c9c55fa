"""`recontact`: bring pooled candidates back when new openings match them (docs/pool.md).

Part of `daily`, after `sync-partner-stats`. Artifacts: `recontact` (counts), `recontact-shortlist`
(the recruiters' digest by opaque id; the full list is the CSV in JUNKAN_RECONTACT__SHORTLIST_DIR) and
`recontact-model` (which potential score was used, with the model's evaluation or why there is none).
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field, create_model

from flows.artifacts import publish_markdown, sending_notes
from flows.declare import schema_checked
from flows.overlap import holds_sending_slot
from flows.params import OptionalDay, as_of_field, blankable, dry_run_field, ja_en, run_namer
from flows.results import FlowResult
from junkan.runtime import settings as run_settings
from tasks.common import emit_message_alerts
from tasks.recontact import (
    apply_approval_task,
    approval_form_task,
    match_new_openings_task,
    record_reapplications_task,
    send_recontact_task,
    write_back_task,
)

ARTIFACT_KEY = "recontact"
SHORTLIST_KEY = "recontact-shortlist"
MODEL_KEY = "recontact-model"
APPROVAL_KEY = "recontact-approval"
#: How often a paused run asks the API whether it was resumed.
APPROVAL_POLL_S = 2


DRY_RUN_HELP = ja_en(
    "マッチングして結果を示すだけです。実行記録・再応募の記録は残さず、メールもキューに入れず送りません。",
    "Match and show the results only: no run is stored, no re-application recorded, no mail "
    "enqueued or sent.")


class _Approval(RunInput):
    """The answer's fixed part; one multi-select per job is added to it for each run."""

    reviewer: str = Field("", title="承認者（社員IDなど）")
    comment: str = Field("", title="コメント")


def _approval(run_id: int, timeout_s: int) -> dict[str, Any]:
    """Pause for a recruiter: per job a multi-select of the matched people's opaque ids, all selected,
    with the scores and reasons above the form, a reviewer and a comment field. A time-out approves
    nobody."""
    form = approval_form_task(run_id)
    jobs: dict[str, Any] = {
        job["field"]: (list[Literal[tuple(job["refs"])]],  # type: ignore[misc]
                       Field(default=list(job["refs"]), title=job["title"])) for job in form["jobs"]}
    answer_type = create_model("RecontactApproval", __base__=_Approval, **jobs).with_initial_data(
        description=form["markdown"])
    try:
        answer = pause_flow_run(wait_for_input=answer_type, timeout=timeout_s, poll_interval=APPROVAL_POLL_S)
    except FlowPauseTimeout:
        return apply_approval_task(run_id, None)
    approved = {name: list(getattr(answer, name)) for name in jobs}
    return apply_approval_task(run_id, approved, answer.reviewer, answer.comment)


@flow(name="recontact", log_prints=False, flow_run_name=run_namer("recontact"),
      description=ja_en(
          "待機期間を過ぎたタレントプールの候補者を新しく募集を始めた求人とマッチングします。採用担当者向けの"
          "候補リスト、または auto モードでは再コンタクトメール。daily の一部。事前確認は手動で実行します。",
          "Match pooled candidates past their cool-down to newly opened positions: a shortlist for "
          "recruiters, or re-contact mails in `auto` mode. Part of `daily`; run it by hand to preview."))
@schema_checked
@holds_sending_slot("recontact")
def recontact(
    as_of: OptionalDay = as_of_field(),
    mode: blankable(Literal["shortlist", "auto"]) = Field(  # type: ignore[valid-type]
        None, description=ja_en(
            "shortlist：採用担当者向けの候補リストと CSV（メールなし）。"
            "auto：同意した人への再コンタクトメール。"
            "空欄なら設定 JUNKAN_RECONTACT__MODE（未設定なら shortlist）。",
            "shortlist: a digest and CSV for recruiters, no mail; auto: re-contact mails to "
            "those who consented. Empty: JUNKAN_RECONTACT__MODE (shortlist unless configured).")),
    dry_run: bool = dry_run_field(DRY_RUN_HELP),
) -> FlowResult:
    settings = run_settings()
    mode = mode or settings.recontact.mode
    recorded = 0 if dry_run else record_reapplications_task(as_of)
    run = match_new_openings_task(as_of, mode, dry_run)
    counts: dict[str, int] = {"reapplications_recorded": recorded, **run["counts"]}
    flags: dict[str, bool] = {}
    if settings.recontact.approval == "ui" and not dry_run and run["run_id"] is not None \
            and run["counts"].get("matches"):
        decided = _approval(run["run_id"], settings.recontact.approval_timeout_s)
        counts.update(decided["counts"])
        publish_markdown(APPROVAL_KEY, decided["markdown"],
                         description=ja_en("誰がどのマッチをいつ承認したか",
                                           "Who approved which matches, when"))
    if mode == "auto" and not dry_run:
        sent = send_recontact_task(as_of)
        flags["outside_window"] = bool(sent.pop("outside_window"))
        counts.update(sent)
        emit_message_alerts("recontact",
                            {"unknown": counts["mails_unknown"], "failed": counts["mails_failed"]})
    counts.update(write_back_task(run["run_id"], dry_run))
    publish_markdown(ARTIFACT_KEY, run["summary_md"], dry_run=dry_run,
                     description=ja_en("再コンタクトの実行：新しい求人・対象のプール・マッチ・メール",
                                       "Re-contact run: new openings, eligible pool, matches, mails"))
    publish_markdown(SHORTLIST_KEY, run["digest_md"], dry_run=dry_run,
                     description=ja_en("新しい求人ごとのマッチした人（匿名 ID）と理由",
                                       "Matched people per new opening, by opaque id, with reasons"))
    publish_markdown(MODEL_KEY, run["model_md"], dry_run=dry_run,
                     description=ja_en("ポテンシャルスコア：ルールか学習済みモデルか、その評価",
                                       "Potential score: rules or the calibrated model, and its evaluation"))
    notes = sending_notes(outside_window=flags.get("outside_window", False), fatal=False, as_of=as_of)
    return FlowResult(counts, flags, notes)
