"""Why a person was matched, in Japanese, from the stored components only (docs/pool.md "Explanations").

Example: 「必須スキル 4/4 一致（SFDC＝Salesforce、商談＝顧客折衝、…）、職種: 法人営業（前回: BtoBセールス）、
前回は最終面接まで、他の候補者を優先」. Every vocabulary link used is named: a skill the person spells
otherwise (person's form＝opening's form), a general synonym (顧客＝クライアント（一般語の同義語）),
one linked only by co-occurrence (≈, with its evidence), the occupation family and the past title it
came from. The parts always come in the same order and skills in
the opening's own order, so a fixed dataset always gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from junkan.ingest.reasons import fold
from junkan.pool.signals import STAGE_LABELS

BUCKETS = ("強い一致", "良い一致", "部分一致")
SYNONYM_NOTE = "一般語の同義語"
TEXT_SIMILAR = 0.35
_SEP = "、"


@dataclass(frozen=True, slots=True)
class SkillForm:
    """How the person wrote a skill that matched, and the evidence when the link was only learned."""

    form: str
    learned: str | None = None
    #: Linked only as a general synonym (Sudachi's synonym groups, docs/pool.md "Vocabulary").
    synonym: bool = False


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


#: How the explanation starts its part on the earlier outcome (the shortlist has columns for it instead).
STAGE_PREFIXES = ("前回は", "以前の応募で")


def _stage_part(best: int, last: int) -> list[str]:
    """The furthest stage any application reached (what the potential score counts), said as 前回 only
    when it was the last application: the shortlist's 前回の選考段階 is the last application's stage."""
    if best <= 0:
        return []
    if last >= best:
        return [f"{STAGE_PREFIXES[0]}{STAGE_LABELS[best]}まで"]
    return [f"{STAGE_PREFIXES[1]}{STAGE_LABELS[best]}まで"]


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
    last_stage_level: int | None = None,
    forms: dict[str, SkillForm] | None = None,
    occupation: str | None = None,
    stated: tuple[str, ...] = (),
) -> Explained:
    """`key` turns a skill into its comparison form (matcher.skill_key, or the run's canonical key);
    `forms` says how the person wrote each matched key; `occupation` is the ready 職種 part, which then
    stands for the text part; `stated` are the ready parts of what the person chose on their own page
    (junkan/pool/stated.py), said first: they weigh most."""
    forms = forms or {}

    def label(skill: str) -> str:
        found = forms.get(key(skill))  # type: ignore[operator]
        if found is None or (found.learned is None and fold(found.form) == fold(skill)):
            return skill
        if found.learned is not None:
            return f"{found.form}≈{skill}（{found.learned}）"
        if found.synonym:
            return f"{found.form}＝{skill}（{SYNONYM_NOTE}）"
        return f"{found.form}＝{skill}"

    matched = [s for s in required if key(s) in candidate_keys]  # type: ignore[operator]
    missing = [s for s in required if key(s) not in candidate_keys]  # type: ignore[operator]
    matched_pref = [s for s in preferred if key(s) in candidate_keys]  # type: ignore[operator]
    parts: list[str] = list(stated)
    if required:
        part = f"必須スキル {len(matched)}/{len(required)} 一致"
        if matched:
            part += f"（{_SEP.join(label(s) for s in matched)}）"
        if missing:
            part += f"{_SEP}不足：{_SEP.join(missing)}"
        parts.append(part)
    if matched_pref:
        parts.append(f"歓迎スキル {len(matched_pref)}/{len(preferred)} 一致"
                     f"（{_SEP.join(label(s) for s in matched_pref)}）")
    if occupation:
        parts.append(occupation)
    elif text_score >= TEXT_SIMILAR and last_title:
        parts.append(f"過去の応募（{last_title}）と職種が近い")
    if location_match and location:
        parts.append(f"勤務地が合う（{location}）")
    parts += _stage_part(stage_level, stage_level if last_stage_level is None else last_stage_level)
    parts.append(pool_why)
    return Explained(matched, missing, matched_pref, _SEP.join(parts))
