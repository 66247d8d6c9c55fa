"""Rejection reason -> category and pool eligibility (docs/ingest.md "Rejection reason mapping").

ATS reason lists are free text that every employer words differently ("他の候補者を優先", "Position filled",
"スキル不足 (Java)"), so the mapping is keyword based on NFKC + case-folded names, in Japanese and English.
Rules are tried in order and the first match wins; the rules that make a candidate ineligible for the
pool come first, so "重複応募 (スキル不足)" can never end up in the pool.

The mapping is configuration: `ReasonMapping.load(path)` reads a TOML or JSON file whose rules are tried
before the built-in ones (or replace them). Every reason row stores the `version` that classified it, and
a run with a different version re-classifies all reasons of the source, so reports can show which
mapping produced a figure.
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from junkan.db.models import POOL_ELIGIBILITY

#: Bump whenever the built-in rules change; stored on every rejection_reason row.
MAPPING_VERSION = "2026.1"

#: Category of a reason the candidate gave (Greenhouse "They rejected us", Lever withdrawals, 辞退).
WITHDRAWN_CATEGORY = "withdrawn"
FINAL_INTERVIEW_CATEGORY = "final_interview"
HIRED_CATEGORY = "hired"
DEFAULT_CATEGORY = "other"
MAX_CATEGORY_LENGTH = 64


def fold(text: str | None) -> str:
    """The form names and keywords are compared in: NFKC (full/half width), case-folded, single spaces."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True, slots=True)
class ReasonRule:
    category: str
    pool_eligibility: str
    keywords: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.pool_eligibility not in POOL_ELIGIBILITY:
            raise ValueError(f"rule {self.category!r}: pool_eligibility must be one of {POOL_ELIGIBILITY}")
        if not self.category or len(self.category) > MAX_CATEGORY_LENGTH:
            raise ValueError(f"rule category must be 1–{MAX_CATEGORY_LENGTH} characters: {self.category!r}")
        if not self.keywords:
            raise ValueError(f"rule {self.category!r} has no keywords")
        object.__setattr__(self, "keywords", tuple(fold(k) for k in self.keywords if fold(k)))

    def matches(self, folded_name: str) -> bool:
        return any(k in folded_name for k in self.keywords)


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    pool_eligibility: str
    mapping_version: str


# Order matters: `never` first, then `silver`, then the final interview, then the standard categories.
DEFAULT_RULES: tuple[ReasonRule, ...] = (
    ReasonRule("spam", "never", ("スパム", "spam", "いたずら", "迷惑応募", "bot応募", "自動応募")),
    ReasonRule("duplicate", "never", ("重複", "二重応募", "duplicate", "dupe")),
    ReasonRule("misconduct", "never", (
        "経歴詐称", "詐称", "虚偽", "不正", "ハラスメント", "暴言", "迷惑行為", "反社",
        "misconduct", "misrepresent", "falsif", "fraud", "dishonest", "harass", "abusive", "inappropriate",
    )),
    ReasonRule("other_candidate", "silver", (
        "他の候補者", "他候補者", "他の応募者", "他応募者", "別の候補者", "より適した", "より適任", "他の方",
        "another candidate", "other candidate", "stronger candidate", "better candidate", "more qualified",
        "better qualified", "other applicant", "another applicant",
    )),
    ReasonRule("position_filled", "silver", (
        "ポジション充足", "充足", "募集終了", "募集締切", "採用枠", "定員", "ポジションクローズ", "求人終了",
        "position filled", "position was filled", "role filled", "role was filled", "job filled",
        "opening filled", "position closed", "role closed", "job closed", "headcount", "no longer open",
        "hiring freeze", "position cancelled", "position canceled",
    )),
    ReasonRule(FINAL_INTERVIEW_CATEGORY, "standard", (
        "最終面接", "役員面接", "final interview", "final round",
    )),
    ReasonRule("skills", "standard", (
        "スキル不足", "スキル", "能力不足", "技術力", "技術不足", "知識不足", "適性",
        "skill", "technical", "qualification", "competenc", "assessment", "coding test", "test result",
    )),
    ReasonRule("experience", "standard", (
        "経験不足", "経験", "実務", "experience", "seniority", "too junior",
    )),
    ReasonRule("culture_fit", "standard", (
        "カルチャー", "社風", "価値観", "人柄", "相性",
        "culture", "values", "not a fit", "poor fit", "team fit",
    )),
    ReasonRule("compensation", "standard", (
        "給与", "年収", "報酬", "待遇", "条件不一致", "希望条件",
        "salary", "compensation", "pay", "offer terms",
    )),
    ReasonRule("location", "standard", ("勤務地", "転勤", "通勤", "location", "relocat", "commut", "remote")),
    ReasonRule("language", "standard", ("語学", "日本語", "英語", "language", "japanese", "english")),
    ReasonRule("no_show", "standard", (
        "無断欠席", "面接欠席", "欠席", "連絡不通", "連絡が取れ", "no show", "no-show", "unresponsive",
        "did not attend", "ghost",
    )),
    ReasonRule("timing", "standard", (
        "時期", "入社日", "タイミング", "timing", "start date", "availability",
    )),
)

#: How a stage name says the candidate reached the final interview.
DEFAULT_FINAL_STAGE_KEYWORDS: tuple[str, ...] = (
    "最終面接", "最終選考", "役員面接", "社長面接", "final interview", "final round", "final stage",
    "executive interview", "onsite final",
)


@dataclass(frozen=True, slots=True)
class ReasonMapping:
    version: str = MAPPING_VERSION
    rules: tuple[ReasonRule, ...] = DEFAULT_RULES
    final_stage_keywords: tuple[str, ...] = DEFAULT_FINAL_STAGE_KEYWORDS
    default_category: str = DEFAULT_CATEGORY
    default_eligibility: str = "standard"
    _folded_stages: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.version or len(self.version) > 32:
            raise ValueError("the mapping version must be 1–32 characters (it is stored on each reason)")
        if self.default_eligibility not in POOL_ELIGIBILITY:
            raise ValueError(f"default_eligibility must be one of {POOL_ELIGIBILITY}")
        object.__setattr__(self, "_folded_stages", tuple(fold(k) for k in self.final_stage_keywords))

    def classify(self, name: str | None, kind: str = "rejected") -> Classification:
        """Category and pool eligibility of one reason; `kind` is ReasonRecord.kind."""
        if kind == "hired":
            # Lever lists its hire archive reasons with the rest; they never explain a rejection.
            return Classification(HIRED_CATEGORY, "standard", self.version)
        folded = fold(name)
        rule = next((r for r in self.rules if r.matches(folded)), None)
        if rule is not None and (rule.pool_eligibility == "never" or kind != "withdrawn"):
            return Classification(rule.category, rule.pool_eligibility, self.version)
        if kind == "withdrawn":
            # They declined us: nothing speaks against asking again, unless a `never` rule matched above.
            return Classification(WITHDRAWN_CATEGORY, "standard", self.version)
        return Classification(self.default_category, self.default_eligibility, self.version)

    def reached_final_stage(self, stage: str | None) -> bool:
        folded = fold(stage)
        return bool(folded) and any(k in folded for k in self._folded_stages)

    def for_application(self, reason: Classification | None, stage_reached: str | None) -> Classification:
        """An application's effective classification: a reason that says nothing about the person
        (category `other`/standard) becomes `final_interview` when the candidate reached the final round.
        `never` and `silver` reasons keep their category, because they are stronger statements."""
        base = reason or Classification(self.default_category, self.default_eligibility, self.version)
        if base.pool_eligibility == "standard" and base.category != WITHDRAWN_CATEGORY and \
                self.reached_final_stage(stage_reached):
            return Classification(FINAL_INTERVIEW_CATEGORY, "standard", base.mapping_version)
        return base

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReasonMapping:
        """Build from the override file's structure (see `load`)."""
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise ValueError("a reason mapping file needs a non-empty `version` string")
        custom = tuple(_rule_from(item, i) for i, item in enumerate(data.get("rules") or []))
        replace = bool(data.get("replace_defaults", False))
        rules = custom if replace else custom + DEFAULT_RULES
        if not rules:
            raise ValueError("a reason mapping with replace_defaults = true needs at least one rule")
        stages = data.get("final_stage_keywords")
        return cls(
            # A custom file on top of the defaults still depends on them, so both versions are recorded.
            version=version.strip() if replace else f"{MAPPING_VERSION}+{version.strip()}"[:32],
            rules=rules,
            final_stage_keywords=tuple(stages) if stages else DEFAULT_FINAL_STAGE_KEYWORDS,
            default_category=str(data.get("default_category") or DEFAULT_CATEGORY),
            default_eligibility=str(data.get("default_eligibility") or "standard"),
        )

    @classmethod
    def load(cls, path: str | Path) -> ReasonMapping:
        """Read an override file (.toml or .json):

        version = "acme-3"
        replace_defaults = false          # true: only these rules, no built-in ones
        [[rules]]
        category = "referral_declined"
        pool_eligibility = "silver"
        keywords = ["リファラル", "referral"]
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        return cls.from_dict(data)


def _rule_from(item: Any, index: int) -> ReasonRule:
    if not isinstance(item, Mapping):
        raise ValueError(f"rules[{index}] must be a table with category, pool_eligibility and keywords")
    keywords = item.get("keywords")
    if isinstance(keywords, str):
        keywords = [keywords]
    if not isinstance(keywords, Iterable):
        raise ValueError(f"rules[{index}].keywords must be a list of strings")
    return ReasonRule(
        category=str(item.get("category") or ""),
        pool_eligibility=str(item.get("pool_eligibility") or "standard"),
        keywords=tuple(str(k) for k in keywords),
    )


_DEFAULT = ReasonMapping()


def default_mapping() -> ReasonMapping:
    return _DEFAULT
