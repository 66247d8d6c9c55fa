"""Links learned from the company's own history, never sent anywhere (docs/pool.md "Vocabulary").

- **Applied to both**: a job the vocabulary cannot classify (「〇〇プロダクトの開発」, a team's internal
  name) takes the family of the classified jobs the same people applied to, when at least
  `MIN_PEOPLE` people did.
- **Skills that co-occur**: a skill or tag the thesaurus does not know is linked to the canonical skill most
  of its holders also have, when at least `MIN_PEOPLE` people have both and they are at least
  `MIN_SHARE` of its holders.
- **Renamed jobs**: ingest keeps the titles a job had before the source renamed it
  (`job_title_history`). A title that names no family takes the family of the renamed job it was (or
  became) a name of: an old title the family of the job's current title, a current title the family of
  its newest old title that names one. Its evidence is the rename itself.

Learned links count less than the thesaurus (`LEARNED_WEIGHT` in the matcher) and each keeps its evidence
(how many people, or the rename), which the explanation and `junkan pool vocabulary` show.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

MIN_PEOPLE = 2
MIN_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class LearnedFamily:
    family: str
    #: The classified job most of the same people applied to, and how many people applied to both.
    via_title: str
    people: int


@dataclass(frozen=True, slots=True)
class LearnedSkill:
    term: str
    #: The comparison key of the canonical skill.
    canonical: str
    #: People who have both, and people who have the term.
    people: int
    holders: int


@dataclass(frozen=True, slots=True)
class LearnedRename:
    family: str
    #: The renamed job's title before and after: one of them is the title this link is for.
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class RenamedJob:
    """A job the source renamed: its family (None when its current words name none), its current title and
    the titles it had before, oldest first."""

    family: str | None
    title: str
    former: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Learned:
    #: Unclassified job id -> its learned family.
    families: dict[int, LearnedFamily]
    #: Skill key of an unknown term -> its learned canonical skill.
    skills: dict[str, LearnedSkill]
    #: Comparison key of a title that names no family -> the family a rename links it to.
    renames: dict[str, LearnedRename] = field(default_factory=dict)


def learn_families(past_jobs: Sequence[tuple[int, ...]], family_of_job: Callable[[int], str | None],
                   title_of_job: Callable[[int], str]) -> dict[int, LearnedFamily]:
    """Families of unclassified jobs from the people who applied to them and to classified jobs."""
    # Many people share one set of jobs: count each distinct set once, weighted by its people.
    people = Counter(p for p in past_jobs if len(p) > 1)
    weighted: dict[int, Counter[int]] = defaultdict(Counter)
    for jobs, n in people.items():
        known = [k for k in jobs if family_of_job(k) is not None]
        for u in (j for j in jobs if family_of_job(j) is None):
            for k in known:
                weighted[u][k] += n
    out: dict[int, LearnedFamily] = {}
    for u, counts in weighted.items():
        by_family: Counter[str] = Counter()
        for k, n in counts.items():
            by_family[family_of_job(k) or ""] += n
        family, n = min(by_family.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= MIN_PEOPLE:
            top = min((k for k in counts if family_of_job(k) == family), key=lambda k: (-counts[k], k))
            out[u] = LearnedFamily(family, title_of_job(top), n)
    return out


def learn_skills(people_keys: Iterable[tuple[str, ...]], is_canonical: Callable[[str], bool],
                 label: Callable[[str], str]) -> dict[str, LearnedSkill]:
    """Unknown skill keys -> the canonical skill most of their holders also have."""
    # People share few distinct sets of skills: count each set once, weighted by its people.
    holders: Counter[str] = Counter()
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    known: dict[str, bool] = {}
    for keys, n in Counter(people_keys).items():
        flags = [(k, known[k] if k in known else known.setdefault(k, is_canonical(k))) for k in keys]
        unknown = [k for k, canonical in flags if not canonical]
        if not unknown:
            continue
        canonical_keys = [k for k, canonical in flags if canonical]
        for u in unknown:
            holders[u] += n
            for c in canonical_keys:
                pairs[u][c] += n
    out: dict[str, LearnedSkill] = {}
    for u, counts in pairs.items():
        if not counts:
            continue
        c, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= MIN_PEOPLE and n >= MIN_SHARE * holders[u]:
            out[u] = LearnedSkill(label(u), c, n, holders[u])
    return out


def learn_renames(jobs: Iterable[RenamedJob], family_of_title: Callable[[str], str | None],
                  key: Callable[[str], str]) -> dict[str, LearnedRename]:
    """Titles that name no family -> the family of a renamed job they are a name of. When renamed jobs
    disagree about one title, the family most of them give wins (then the first family id)."""
    found: dict[str, dict[str, list[LearnedRename]]] = defaultdict(lambda: defaultdict(list))
    for job in jobs:
        current = key(job.title)
        former = [t for t in dict.fromkeys(job.former) if key(t) != current]
        if job.family is not None:
            for old in former:
                if family_of_title(old) is None:
                    found[key(old)][job.family].append(LearnedRename(job.family, old, job.title))
            continue
        named = [(old, f) for old in former if (f := family_of_title(old)) is not None]
        if named:
            old, family = named[-1]
            found[current][family].append(LearnedRename(family, old, job.title))
    out: dict[str, LearnedRename] = {}
    for title, by_family in found.items():
        family = min(by_family, key=lambda f: (-len(by_family[f]), f))
        out[title] = by_family[family][0]
    return out
