"""What of the pool's and the open jobs' words the vocabulary does not know (`junkan pool vocabulary`).

HR sees why someone was not matched: the job titles that map to no occupation family and the skills and
tags that map to no canonical skill, each with how often it occurs (pool members who have it + open jobs
that use it), most frequent first; and the links learned from the company's history with their
evidence. Only words are shown, never who wrote them.
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
from junkan.pool.semantic import Semantics
from junkan.pool.signals import PoolSignals, as_list, load_signals
from junkan.pool.vocabulary import load_vocabulary


@dataclass(frozen=True, slots=True)
class Unmapped:
    term: str
    count: int
    #: A learned link that covers it, with its evidence ("" when none).
    learned: str = ""


@dataclass(frozen=True, slots=True)
class VocabularyReport:
    members: int
    open_jobs: int
    titles: list[Unmapped]
    skills: list[Unmapped]


def _ranked(counts: Counter[str], learned: dict[str, str]) -> list[Unmapped]:
    return [Unmapped(term, n, learned.get(term, "")) for term, n in
            sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _open_jobs(session: Session) -> list[tuple[str, str | None, tuple[str, ...]]]:
    rows = session.execute(
        select(Job.title, Job.description, type_coerce(Job.required_skills, Text),
               type_coerce(Job.preferred_skills, Text)).where(Job.status == "open").order_by(Job.id)
    ).all()
    return [(t, d, (*as_list(r), *as_list(p))) for t, d, r, p in rows]


def build(signals: PoolSignals, members: list[int], open_jobs: list[tuple[str, str | None, tuple[str, ...]]],
          sem: Semantics) -> VocabularyReport:
    titles: Counter[str] = Counter()
    skills: Counter[str] = Counter()
    learned_titles: dict[str, str] = {}
    for i in members:
        for job_id in signals.past_jobs[i]:
            if sem.job_occupation(job_id) is None:
                title = signals.jobs[job_id].title
                titles[title] += 1
                link = sem.learned.families.get(job_id)
                if link is not None:
                    family = sem.family_title(link.family)
                    learned_titles[title] = f"≈{family}（{link.via_title}と同じ人の応募 {link.people}人）"
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
            learned_titles[title] = f"≈{family}（求人名の変更 {rename.old}→{rename.new}）"
    learned_skills: dict[str, str] = {}
    for term in skills:
        skill = sem.learned_skill(sem.skill_key(term))
        if skill is not None:
            name = sem.canonical_name(skill.canonical) or skill.canonical
            learned_skills[term] = f"≈{name}（同じ人 {skill.people}/{skill.holders}人）"
    return VocabularyReport(len(members), len(open_jobs), _ranked(titles, learned_titles),
                            _ranked(skills, learned_skills))


def vocabulary_report(session: Session, settings: Settings, now: datetime) -> VocabularyReport:
    signals = load_signals(session, settings, now)
    membership = pool_membership(signals, settings, now)
    members = [i for i in range(len(signals)) if membership.mask[i]]
    sem = Semantics(load_vocabulary(settings.recontact.thesaurus_path), signals)
    return build(signals, members, _open_jobs(session), sem)


def lines(report: VocabularyReport) -> list[str]:
    """The report as the CLI prints it (tab-separated count, word, learned link)."""
    out = [f"プール {report.members}人・募集中の求人 {report.open_jobs}件のうち、語彙に当たらない語"
           "（件数 = 持っている人数 + 使っている求人数、多い順）",
           f"職種に当たらない職名: {len(report.titles)}"]
    out += [f"{u.count}\t{u.term}" + (f"\t学習: {u.learned}" if u.learned else "") for u in report.titles]
    out.append(f"正規スキルに当たらないスキル・タグ: {len(report.skills)}")
    out += [f"{u.count}\t{u.term}" + (f"\t学習: {u.learned}" if u.learned else "") for u in report.skills]
    return out
