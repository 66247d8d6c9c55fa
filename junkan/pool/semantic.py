"""The semantic parts of a match: canonical skills and occupation families (docs/pool.md "Vocabulary").

Built once per run in the parent, from the vocabulary (shipped + operator file) and the pool's own
history (learned links). What partitions receive are plain keys and weights: a worker needs neither
Sudachi nor the vocabulary.

A person's occupation weights: 1 for the family of every job they applied to, `LEARNED_WEIGHT` when that
family was only learned from history, `NEIGHBOUR_WEIGHT` for the neighbours of those families; the
highest wins per family. An opening has one family (from its title, else its posting, else its skills),
so the occupation part of the product is the person's weight for that family.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from junkan.ingest.reasons import fold
from junkan.pool.explain import SkillForm
from junkan.pool.openings import Target
from junkan.pool.signals import PoolSignals
from junkan.pool.vocabulary.classify import Classifier, Occupation
from junkan.pool.vocabulary.learned import (
    Learned,
    LearnedRename,
    LearnedSkill,
    RenamedJob,
    learn_families,
    learn_renames,
    learn_skills,
)
from junkan.pool.vocabulary.synonyms import synonym_signature
from junkan.pool.vocabulary.terms import term_key
from junkan.pool.vocabulary.thesaurus import Vocabulary

SAME_WEIGHT = 1.0
LEARNED_WEIGHT = 0.6
NEIGHBOUR_WEIGHT = 0.5
#: A skill linked only by co-occurrence, or only as a general synonym (Sudachi's synonym groups), counts
#: this much of a thesaurus match.
LEARNED_SKILL_WEIGHT = 0.5
#: Prefix of a canonical skill key: never equal to a folded raw skill.
CANONICAL = "≡"


@dataclass(frozen=True, slots=True)
class FamilyLink:
    """Why a person counts for a family: the past job title that gave it, and how."""

    weight: float
    title: str
    #: "same", "neighbour", "renamed" or "learned".
    how: str
    #: For a learned family, as the explanation says it: the job the same people applied to and how many
    #: they were, or the rename that links the title.
    evidence: str = ""
    #: Whether it comes from the job the person applied to last: what the shortlist calls 前回の応募求人.
    latest: bool = True


def _keep(links: dict[str, FamilyLink], family: str, link: FamilyLink) -> None:
    """Keep the strongest link per family; of equal ones the latest application's."""
    old = links.get(family)
    if old is None or old.weight < link.weight or (old.weight == link.weight and link.latest):
        links[family] = link


#: One past job's family and why (None: none), and its family's neighbours.
_JobLinks = tuple[tuple[str, FamilyLink] | None, tuple[tuple[str, FamilyLink], ...]]


class Semantics:
    """One run's vocabulary: skill keys, job occupations and what the signals' history teaches, each
    computed once per distinct term, job or set of past jobs (the pool repeats them a lot)."""

    def __init__(self, vocab: Vocabulary, signals: PoolSignals | None = None, *,
                 general_synonyms: bool = True) -> None:
        self.vocab = vocab
        self.general_synonyms = general_synonyms
        self.classifier = Classifier(vocab)
        self._skill: dict[str, str] = {}
        self._terms: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._job: dict[int, Occupation | None] = {}
        self._links: dict[tuple[int, ...], dict[str, FamilyLink]] = {}
        self._job_links_cache: dict[tuple[int, bool], _JobLinks] = {}
        #: The openings' skill keys by synonym signature, for the last set of openings asked about.
        self._synonyms: tuple[Collection[str], dict[str, tuple[str, ...]]] | None = None
        self._contested_sigs: frozenset[str] | None = None
        self._sig: dict[str, str | None] = {}
        self.learned = Learned({}, {})
        self._signals = signals
        if signals is not None:
            self.learned = Learned(
                families=learn_families(signals.past_jobs, self._job_family, self._job_title),
                skills=learn_skills((self.raw_keys(signals, i) for i in range(len(signals))),
                                    lambda k: k.startswith(CANONICAL), lambda k: k),
                renames=learn_renames(
                    (RenamedJob(self._job_family(j), self._job_title(j), former)
                     for j, former in sorted(signals.former_titles.items())),
                    self._title_family, term_key),
            )

    # -- skills
    def skill_key(self, term: str) -> str:
        key = self._skill.get(term)
        if key is None:
            canonical = self.vocab.canonical_skill(term)
            key = self._skill[term] = CANONICAL + canonical if canonical else fold(term)
        return key

    @staticmethod
    def canonical_name(key: str) -> str | None:
        return key[len(CANONICAL):] if key.startswith(CANONICAL) else None

    def raw_keys(self, signals: PoolSignals, i: int) -> tuple[str, ...]:
        """A person's skill and tag keys, in their order, once each (cached per distinct set of words)."""
        return self.keys_of_terms((*signals.skills[i], *signals.ats_tags[i], *signals.operator_tags[i]))

    def keys_of_terms(self, terms: tuple[str, ...]) -> tuple[str, ...]:
        """The keys of skills and tags written `terms`, in their order, once each."""
        keys = self._terms.get(terms)
        if keys is None:
            keys = self._terms[terms] = tuple(dict.fromkeys(k for t in terms if (k := self.skill_key(t))))
        return keys

    def learned_skill(self, key: str) -> LearnedSkill | None:
        return self.learned.skills.get(key)

    def synonym(self, key: str) -> str | None:
        """The general-synonym signature of a skill key the thesaurus does not know (its keys never get one),
        unless the vocabulary tells that signature's words apart."""
        if key in self._sig:
            return self._sig[key]
        sig = synonym_signature(key) if self.general_synonyms and not key.startswith(CANONICAL) else None
        found = self._sig[key] = None if sig is None or sig in self._contested() else sig
        return found

    def _contested(self) -> frozenset[str]:
        """Signatures whose words the vocabulary itself puts in different families or skills: Sudachi has
        介護＝看護 (group 22138), the job vocabulary has care and nursing, so that group links nothing."""
        if self._contested_sigs is None:
            families: dict[str, set[str]] = {}
            skills: dict[str, set[str]] = {}
            for index, seen in ((self.vocab.family_of, families), (self.vocab.skill_of, skills)):
                for key, target in index.items():
                    if (sig := synonym_signature(key)) is not None:
                        seen.setdefault(sig, set()).add(target)
            self._contested_sigs = frozenset(sig for seen in (families, skills)
                                             for sig, targets in seen.items() if len(targets) > 1)
        return self._contested_sigs

    def _synonym_index(self, wanted: Collection[str]) -> dict[str, tuple[str, ...]]:
        if self._synonyms is None or self._synonyms[0] is not wanted:
            index: dict[str, list[str]] = {}
            for key in wanted:
                if (sig := self.synonym(key)) is not None:
                    index.setdefault(sig, []).append(key)
            self._synonyms = (wanted, {sig: tuple(keys) for sig, keys in index.items()})
        return self._synonyms[1]

    def synonym_links(self, keys: tuple[str, ...], wanted: Collection[str]) -> dict[str, str]:
        """An opening's skill key -> the person's key it is a general synonym of (クライアント -> 顧客),
        for the opening keys `wanted` the person does not already have."""
        index = self._synonym_index(wanted)
        links: dict[str, str] = {}
        if not index:
            return links
        for key in keys:
            sig = self.synonym(key)
            for other in index.get(sig, ()) if sig is not None else ():
                if other not in keys:
                    links.setdefault(other, key)
        return links

    def linked_keys(self, keys: tuple[str, ...], wanted: Collection[str]) -> list[str]:
        """The opening keys a person's keys link to below a thesaurus match (`LEARNED_SKILL_WEIGHT`):
        learned by co-occurrence, or general synonyms."""
        learned = {link.canonical for k in keys if (link := self.learned_skill(k)) is not None}
        return sorted(learned | set(self.synonym_links(keys, wanted)))

    # -- occupations
    def _job_title(self, job_id: int) -> str:
        job = self._signals.jobs.get(job_id) if self._signals is not None else None
        return job.title if job else ""

    def job_occupation(self, job_id: int) -> Occupation | None:
        if job_id not in self._job:
            job = self._signals.jobs.get(job_id) if self._signals is not None else None
            self._job[job_id] = (self.classifier.of_job(job.title, job.description, job.skills)
                                 if job else None)
        return self._job[job_id]

    def _job_family(self, job_id: int) -> str | None:
        found = self.job_occupation(job_id)
        return found.family if found else None

    def _title_family(self, title: str) -> str | None:
        found = self.classifier.head(title)
        return found[0] if found else None

    def renamed(self, title: str) -> LearnedRename | None:
        """The family a rename links a title to that names none itself."""
        return self.learned.renames.get(term_key(title)) if self.learned.renames and title else None

    def target_occupation(self, t: Target) -> Occupation | None:
        found = self.classifier.of_job(t.title, t.description, (*t.required_skills, *t.preferred_skills))
        rename = self.renamed(t.title) if found is None else None
        return Occupation(rename.family, "renamed", rename.old) if rename is not None else found

    def _job_links(self, job_id: int, latest: bool) -> _JobLinks:
        """What one past job says: its family and why, and its family's neighbours (once per job, and
        whether it was the person's last application)."""
        cached = self._job_links_cache.get((job_id, latest))
        if cached is not None:
            return cached
        title = self._job_title(job_id)
        found = self.job_occupation(job_id)
        rename = self.renamed(title) if found is None else None
        learned = self.learned.families.get(job_id) if found is None else None
        if found is not None:
            link = FamilyLink(SAME_WEIGHT, title, "same", latest=latest)
            family = found.family
        elif rename is not None:
            # The person's past title is the job's old name, or its new one: the note names the other
            # (and an old name once only: no 「前回」 besides it).
            was_old = term_key(title) == term_key(rename.old)
            link = FamilyLink(LEARNED_WEIGHT, "" if was_old else title, "renamed",
                              self._rename_note(was_old, rename), latest)
            family = rename.family
        elif learned is not None:
            link = FamilyLink(LEARNED_WEIGHT, title, "learned",
                              f"学習: {learned.via_title}と同じ人の応募 {learned.people}人", latest)
            family = learned.family
        else:
            self._job_links_cache[(job_id, latest)] = (None, ())
            return None, ()
        near = link.weight * NEIGHBOUR_WEIGHT
        neighbours = tuple((n, FamilyLink(near, title, "neighbour", latest=latest))
                           for n in self.vocab.families[family].neighbours)
        self._job_links_cache[(job_id, latest)] = ((family, link), neighbours)
        return (family, link), neighbours

    def family_links(self, past_jobs: tuple[int, ...]) -> dict[str, FamilyLink]:
        """Family -> the strongest reason this set of past jobs counts for it (a neighbour only where no
        job of the set gives that family itself a stronger reason)."""
        links = self._links.get(past_jobs)
        if links is not None:
            return links
        links = {}
        neighbours: list[tuple[str, FamilyLink]] = []
        for job_id in past_jobs:
            direct, near = self._job_links(job_id, job_id == past_jobs[-1])
            if direct is None:
                continue
            _keep(links, *direct)
            neighbours.extend(near)
        for family, link in neighbours:
            _keep(links, family, link)
        self._links[past_jobs] = links
        return links

    def _rename_note(self, was_old: bool, rename: LearnedRename) -> str:
        """「旧求人名: BtoBセールス」: the old name, followed by the new one (→法人営業（SaaS）) when the past
        title was the old name and the new one is not simply the family's name."""
        same = not was_old or fold(rename.new) == fold(self.family_title(rename.family))
        return f"旧求人名: {rename.old}" + ("" if same else f"→{rename.new}")

    def family_title(self, family: str) -> str:
        return self.vocab.families[family].ja

    def occupation_part(self, target: Target, past_jobs: tuple[int, ...]) -> str | None:
        """The 職種 part of an explanation: 「職種: 法人営業（前回: BtoBセールス）」, None without a link."""
        found = self.target_occupation(target)
        link = self.family_links(past_jobs).get(found.family) if found else None
        if found is None or link is None:
            return None
        name = self.family_title(found.family)
        head = "職種が近い" if link.how == "neighbour" else "職種"
        # The family may come from an earlier application than the last one (a backend engineer who
        # applied to 法務 since): that one is named even when its title is the family's own, or the
        # shortlist's 前回の応募求人 (法務) would be the only job shown.
        if not link.latest and link.title:
            notes = [f"過去の応募: {link.title}"]
        else:
            notes = [f"前回: {link.title}"] if link.title and fold(link.title) != fold(name) else []
        if link.evidence:
            notes.append(link.evidence)
        return f"{head}: {name}" + (f"（{'、'.join(notes)}）" if notes else "")

    def skill_forms(self, signals: PoolSignals, i: int, wanted: Collection[str] = ()) -> dict[str, SkillForm]:
        """Key -> how the person wrote it (first spelling wins), learned links with their evidence, and the
        opening keys `wanted` a general synonym links the person to."""
        forms: dict[str, SkillForm] = {}
        for term in (*signals.skills[i], *signals.ats_tags[i], *signals.operator_tags[i]):
            key = self.skill_key(term)
            if key:
                forms.setdefault(key, SkillForm(term))
            learned = self.learned_skill(key)
            if learned is not None:
                forms.setdefault(learned.canonical,
                                 SkillForm(term, f"学習: 同じ人 {learned.people}/{learned.holders}人"))
        if wanted:
            for other, key in self.synonym_links(self.raw_keys(signals, i), wanted).items():
                forms.setdefault(other, SkillForm(forms[key].form, synonym=True))
        return forms
