"""Markdown for the `recontact` artifacts: run counts, the recruiters' digest, the potential-model report.

Only opaque ids, scores, job titles and reasons: no personal data.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from junkan.count_labels import EXCLUSION_RULES, shown
from junkan.pool.attribution import Lift
from junkan.pool.model import ModelReport

#: The artifact lists this many openings; the CSV has all of them.
DIGEST_MAX_OPENINGS = 50

#: The run's counts the artifact shows first, in this order (labels: junkan/count_labels.py).
_COUNT_ROWS = ("new_openings", "eligible_pool", "pool", "matches", "matched_people", "mails_enqueued",
               "shortlists", "held_out", "no_recontact_consent", "reapplications_recorded")


def _cell(text: object) -> str:
    return str(text).replace("|", "／").replace("\n", " ")


def counts_markdown(counts: dict[str, Any], *, mode: str, dry_run: bool, lift: Lift | None = None) -> str:
    title = f"# 再コンタクト / Re-contact（{mode}{'、ドライラン / dry run' if dry_run else ''}）"
    lines = [title, "", "| 項目 | item | 件数 |", "| --- | --- | ---: |"]
    for key in _COUNT_ROWS:
        if key in counts:
            ja, en = shown(key)
            lines.append(f"| {ja} | {en} | {counts[key]} |")
    excluded = {k.removeprefix("excluded_"): v for k, v in counts.items() if k.startswith("excluded_")}
    if excluded:
        lines += ["", "マッチ対象外（1人が複数の理由に当たることがあります）/ "
                  "Excluded from matching (a person can hit several rules):", "",
                  "| 理由 | rule | 人数 |", "| --- | --- | ---: |"]
        for rule, n in excluded.items():
            ja, en = EXCLUSION_RULES.get(rule, (rule, rule))
            lines.append(f"| {ja} | {en} | {n} |")
    if lift is not None and (lift.contacted.people or lift.holdout.people):
        lines += ["", "再コンタクト後の再応募（自動送信の実行、全期間）/ "
                  "Re-application after re-contact (auto runs, all time):", "",
                  "| 群 | group | 人数 | 再応募 | 率 |", "| --- | --- | ---: | ---: | ---: |"]
        for ja, en, group in (("メール送信", "mailed", lift.contacted),
                              ("送らずに比較（ホールドアウト）", "held out", lift.holdout)):
            rate = "–" if group.rate is None else f"{group.rate:.1%}"
            lines.append(f"| {ja} | {en} | {group.people} | {group.reapplied} | {rate} |")
        if lift.lift is not None:
            lines.append(f"\nリフト（送信群の率 ÷ ホールドアウト群の率）/ "
                         f"Lift (mailed rate / held-out rate): {lift.lift:.2f}×")
    return "\n".join(lines)


def digest_markdown(rows: list[dict[str, Any]], *, csv_name: str | None) -> str:
    lines = ["# Re-contact shortlist", ""]
    if not rows:
        return "\n".join([*lines, "No matches in this run."])
    if csv_name:
        lines += [f"Full list: `{csv_name}`", ""]
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_target[(r["job_id"], r["opening_id"])].append(r)
    for n, ((job, opening), matches) in enumerate(by_target.items()):
        if n >= DIGEST_MAX_OPENINGS:
            lines.append(f"… and {len(by_target) - n} more openings in the CSV.")
            break
        where = f"job {job}, opening {opening}" if opening else f"job {job}"
        head = f"## {_cell(matches[0].get('job_title', job))} ({where})"
        lines += [head, "", "| # | candidate | score | bucket | why |", "| ---: | --- | ---: | --- | --- |"]
        lines += [f"| {m['rank']} | {m['candidate_ref']} | {m['score']} | {m.get('bucket', '')} "
                  f"| {_cell(m['why'])} |" for m in matches]
        lines.append("")
    return "\n".join(lines)


def model_markdown(report: ModelReport) -> str:
    lines = ["# Potential score", ""]
    if report.method != "model":
        lines += [
            f"**Rule-based score in use.** {report.note}.",
            "",
            f"Outcomes so far: {report.outcomes} re-applications from the pool, {report.hires} hired "
            f"(the model needs {report.needed}, with at least {report.needed_hires} hired and as many not).",
        ]
        return "\n".join(lines)
    m = report.metrics
    lines += [
        f"**Model `{report.model_version}` in use** ({report.note}).",
        "",
        f"Time-based split: trained on {m['train']} outcomes up to {m['train_until']}, tested on the newest "
        f"{m['test']} (hire rate {m['base_rate_test']:.1%}).",
        "",
        "| | model | rules |", "| --- | ---: | ---: |",
        f"| AUC | {m['auc_model']:.3f} | {m['auc_rules']:.3f} |",
        f"| Brier score (lower is better) | {m['brier_model']:.3f} | {m['brier_rules']:.3f} |",
        "", "Reliability (test split):", "",
        "| bin | predicted | observed | n |", "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {b['bin']} | {b['predicted']:.3f} | {b['observed']:.3f} | {b['n']} |"
              for b in m["reliability_model"]]
    lines += ["", "The rules' Brier score reads the rule score / 100 as a probability, which it does not "
              "claim to be; AUC compares the rankings fairly."]
    return "\n".join(lines)
