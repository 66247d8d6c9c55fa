"""What of the pool's and the open jobs' words the vocabulary does not know (`junkan pool vocabulary`).

HR sees why someone was not matched: the job titles that map to no occupation family and the skills and
tags that map to no canonical skill, each with how often it occurs (pool members who have it + open jobs
that use it), most frequent first; and the links the matcher makes for them anyway: learned from the
company's history, with their evidence, or general synonyms of each other (Sudachi's groups). Only words
are shown, never who wrote them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.models import Job
from junkan.pool.eligibility import pool_membership
from junkan.pool.explain import SYNONYM_NOTE
from junkan.pool.runs import build_semantics
from junkan.pool.semantic import Semantics
from junkan.pool.signals import PoolSignals, as_list, load_signals


@dataclass(frozen=True, slots=True)
class Unmapped:
    term: str
    count: int
    #: The link the matcher makes for it anyway, as shown: 「学習: ≈…（evidence）」 or 「一般語の同義語: …」
    #: ("" when none).
    link: str = ""


@dataclass(frozen=True, slots=True)
class VocabularyReport:
    members: int
    open_jobs: int
    titles: list[Unmapped]
    skills: list[Unmapped]


def _ranked(counts: Counter[str], links: dict[str, str]) -> list[Unmapped]:
    return [Unmapped(term, n, links.get(term, "")) for term, n in
            sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _open_jobs(session: Session) -> list[tuple[str, str | None, tuple[str, ...]]]:
    rows = session.execute(
        select(Job.title, Job.description, type_coerce(Job.required_skills, Text),
               type_coerce(Job.preferred_skills, Text)).where(Job.status == "open").order_by(Job.id)
    ).all()
    return [(t, d, (*as_list(r), *as_list(p))) for t, d, r, p in rows]


def _general_synonyms(terms: Counter[str], sem: Semantics) -> dict[str, list[str]]:
    """Each listed term -> the other listed terms the matcher links it to as general synonyms (Sudachi's
    groups: a person's クライアント meets a job's 顧客), in the list's order."""
    by_signature: dict[str, list[str]] = {}
    for term in sorted(terms, key=lambda t: (-terms[t], t)):
        signature = sem.synonym(sem.skill_key(term))
        if signature is not None:
            by_signature.setdefault(signature, []).append(term)
    return {term: [other for other in group if other != term]
            for group in by_signature.values() if len(group) > 1 for term in group}


def build(signals: PoolSignals, members: list[int], open_jobs: list[tuple[str, str | None, tuple[str, ...]]],
          sem: Semantics) -> VocabularyReport:
    titles: Counter[str] = Counter()
    skills: Counter[str] = Counter()
    title_links: dict[str, str] = {}
    for i in members:
        for job_id in signals.past_jobs[i]:
            if sem.job_occupation(job_id) is None:
                title = signals.jobs[job_id].title
                titles[title] += 1
                link = sem.learned.families.get(job_id)
                if link is not None:
                    family = sem.family_title(link.family)
                    title_links[title] = f"学習: ≈{family}（{link.via_title}と同じ人の応募 {link.people}人）"
        for term in dict.fromkeys((*signals.skills[i], *signals.ats_tags[i], *signals.operator_tags[i])):
            if sem.vocab.canonical_skill(term) is None:
                skills[term] += 1
    for title, description, job_skills in open_jobs:
        if sem.classifier.of_job(title, description, job_skills) is None:
            titles[title] += 1
        for term in dict.fromkeys(job_skills):
            if sem.vocab.canonical_skill(term) is None:
                skills[term] += 1
    for title in titles:
        rename = sem.renamed(title)
        if rename is not None:
            # A rename is what the company itself says: it is the link the matcher uses first.
            family = sem.family_title(rename.family)
            title_links[title] = f"学習: ≈{family}（求人名の変更 {rename.old}→{rename.new}）"
    skill_links: dict[str, str] = {}
    for term in skills:
        skill = sem.learned_skill(sem.skill_key(term))
        if skill is not None:
            name = sem.canonical_name(skill.canonical) or skill.canonical
            skill_links[term] = f"学習: ≈{name}（同じ人 {skill.people}/{skill.holders}人）"
    for term, synonyms in _general_synonyms(skills, sem).items():
        skill_links.setdefault(term, f"{SYNONYM_NOTE}: {'・'.join(synonyms)}")
    return VocabularyReport(len(members), len(open_jobs), _ranked(titles, title_links),
                            _ranked(skills, skill_links))


def vocabulary_report(session: Session, settings: Settings, now: datetime) -> VocabularyReport:
    signals = load_signals(session, settings, now)
    membership = pool_membership(signals, settings, now)
    members = [i for i in range(len(signals)) if membership.mask[i]]
    return build(signals, members, _open_jobs(session), build_semantics(settings, signals))


def lines(report: VocabularyReport) -> list[str]:
    """The report as the CLI prints it (tab-separated count, word, learned link)."""
    out = [f"プール {report.members}人・募集中の求人 {report.open_jobs}件のうち、語彙に当たらない語"
           "（件数 = 持っている人数 + 使っている求人数、多い順）",
           f"職種に当たらない職名: {len(report.titles)}"]
    out += [f"{u.count}\t{u.term}" + (f"\t{u.link}" if u.link else "") for u in report.titles]
    out.append(f"正規スキルに当たらないスキル・タグ: {len(report.skills)}")
    out += [f"{u.count}\t{u.term}" + (f"\t{u.link}" if u.link else "") for u in report.skills]
    return out
