"""Why a person was matched, in Japanese, from the stored components only (docs/pool.md "Explanations").

Example: 「必須スキル 4/4 一致（Python、Go、SQL、AWS）、前回は最終面接まで、他の候補者を優先」. The parts
always come in the same order and skills in the opening's own order, so a fixed dataset always gives the
same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from junkan.pool.signals import STAGE_LABELS

BUCKETS = ("強い一致", "良い一致", "部分一致")
TEXT_SIMILAR = 0.35
_SEP = "、"


@dataclass(frozen=True, slots=True)
class Explained:
    matched_required: list[str]
    missing_required: list[str]
    matched_preferred: list[str]
    why: str


def bucket(score: float, strong: float, good: float) -> str:
    if score >= strong:
        return BUCKETS[0]
    if score >= good:
        return BUCKETS[1]
    return BUCKETS[2]


def explain(
    *,
    required: tuple[str, ...],
    preferred: tuple[str, ...],
    candidate_keys: set[str],
    key: object,
    text_score: float,
    last_title: str | None,
    location_match: bool,
    location: str | None,
    stage_level: int,
    pool_why: str,
) -> Explained:
    """`key` turns a skill into its comparison form (matcher.skill_key)."""
    matched = [s for s in required if key(s) in candidate_keys]  # type: ignore[operator]
    missing = [s for s in required if key(s) not in candidate_keys]  # type: ignore[operator]
    matched_pref = [s for s in preferred if key(s) in candidate_keys]  # type: ignore[operator]
    parts: list[str] = []
    if required:
        part = f"必須スキル {len(matched)}/{len(required)} 一致"
        if matched:
            part += f"（{_SEP.join(matched)}）"
        if missing:
            part += f"{_SEP}不足：{_SEP.join(missing)}"
        parts.append(part)
    if matched_pref:
        parts.append(f"歓迎スキル {len(matched_pref)}/{len(preferred)} 一致（{_SEP.join(matched_pref)}）")
    if text_score >= TEXT_SIMILAR and last_title:
        parts.append(f"過去の応募（{last_title}）と職種が近い")
    if location_match and location:
        parts.append(f"勤務地が合う（{location}）")
    if stage_level > 0:
        parts.append(f"前回は{STAGE_LABELS[stage_level]}まで")
    parts.append(pool_why)
    return Explained(matched, missing, matched_pref, _SEP.join(parts))
