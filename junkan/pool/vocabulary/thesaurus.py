"""The shipped job vocabulary (occupations.yaml, skills.yaml) and an operator's additions (docs/pool.md).

Every lookup goes through `terms.term_key`, so a form is found whatever its spelling. An operator file
(`JUNKAN_RECONTACT__THESAURUS_PATH`, YAML or CSV with the headers 正規形,別名,種別) adds entries or moves
an alias to another canonical entry; a bad entry refuses the whole file with its line, so a typo never
silently changes who is matched.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from junkan.pool.vocabulary.terms import term_key

SKILL_KINDS = ("スキル", "skill")
OCCUPATION_KINDS = ("職種", "occupation")
_ALIAS_SPLIT = re.compile(r"[、|｜;；]")


class ThesaurusError(ValueError):
    """A bad vocabulary file or entry; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    code: str
    mhlw: str
    ja: str
    en: str
    aliases: tuple[str, ...]
    neighbours: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of an operator file."""

    canonical: str
    aliases: tuple[str, ...]
    kind: str
    line: int


@dataclass
class Vocabulary:
    families: dict[str, Family]
    #: term_key of any name of a family (its titles and aliases) -> family id.
    family_of: dict[str, str]
    #: term_key of a skill form (the canonical name too) -> canonical skill.
    skill_of: dict[str, str]
    #: Canonical skill -> the family it points to (jobs classified by their skills).
    skill_family: dict[str, str] = field(default_factory=dict)

    def canonical_skill(self, term: str) -> str | None:
        return self.skill_of.get(term_key(term))

    def family_named(self, name: str) -> str | None:
        """A family by id, title or alias."""
        return name if name in self.families else self.family_of.get(term_key(name))

    def with_entries(self, entries: list[Entry], source: str) -> Vocabulary:
        """A copy with an operator's entries applied (later entries of one file may not contradict)."""
        families = dict(self.families)
        family_of, skill_of = dict(self.family_of), dict(self.skill_of)
        claimed: dict[str, tuple[str, int]] = {}
        for e in entries:
            for alias in (e.canonical, *e.aliases):
                key = term_key(alias)
                if not key:
                    continue
                other = claimed.get(key)
                if other is not None and other[0] != e.canonical:
                    raise ThesaurusError(f"{source} {e.line}行目: 別名「{alias}」は {other[1]}行目で"
                                         f"「{other[0]}」にも割り当てられています")
                claimed[key] = (e.canonical, e.line)
            if e.kind in SKILL_KINDS:
                target = self.skill_of.get(term_key(e.canonical), e.canonical)
                for alias in (e.canonical, *e.aliases):
                    skill_of[term_key(alias)] = target
            else:
                fid = self.family_named(e.canonical)
                if fid is None:
                    fid = e.canonical
                    families[fid] = Family(fid, "", "", e.canonical, e.canonical, e.aliases, ())
                for alias in (e.canonical, *e.aliases):
                    family_of[term_key(alias)] = fid
        return Vocabulary(families, family_of, skill_of, dict(self.skill_family))


def _text(name: str) -> str:
    return resources.files("junkan.pool.vocabulary").joinpath(name).read_text(encoding="utf-8")


def _claim(index: dict[str, str], name: str, value: str, what: str) -> None:
    key = term_key(name)
    if key and index.get(key, value) != value:
        raise ThesaurusError(f"{what}: 「{name}」が「{index[key]}」と「{value}」の両方にあります")
    if key:
        index[key] = value


def parse_shipped(occupations: str, skills: str) -> Vocabulary:
    families: dict[str, Family] = {}
    family_of: dict[str, str] = {}
    for raw in yaml.safe_load(occupations):
        f = Family(str(raw["id"]), str(raw["code"]), str(raw["mhlw"]), str(raw["ja"]), str(raw["en"]),
                   tuple(str(a) for a in raw.get("aliases") or ()),
                   tuple(str(n) for n in raw.get("neighbours") or ()))
        if f.id in families:
            raise ThesaurusError(f"occupations.yaml: 職種 id「{f.id}」が重複しています")
        families[f.id] = f
        for name in (f.ja, f.en, *f.aliases):
            _claim(family_of, name, f.id, "occupations.yaml")
    for f in families.values():
        unknown = [n for n in f.neighbours if n not in families]
        if unknown:
            raise ThesaurusError(f"occupations.yaml: {f.id} の隣接職種が不明です: {', '.join(unknown)}")
    skill_of: dict[str, str] = {}
    skill_family: dict[str, str] = {}
    for group in yaml.safe_load(skills):
        hint = group.get("family")
        if hint is not None and hint not in families:
            raise ThesaurusError(f"skills.yaml: 職種「{hint}」が不明です")
        for canonical, forms in (group.get("skills") or {}).items():
            name = str(canonical)
            if name in skill_family or term_key(name) in skill_of:
                raise ThesaurusError(f"skills.yaml: スキル「{name}」が重複しています")
            for form in (name, *(str(x) for x in forms or ())):
                _claim(skill_of, form, name, "skills.yaml")
            if hint is not None:
                skill_family[name] = str(hint)
    return Vocabulary(families, family_of, skill_of, skill_family)


@functools.lru_cache(maxsize=1)
def shipped() -> Vocabulary:
    return parse_shipped(_text("occupations.yaml"), _text("skills.yaml"))


def _entry(row: dict[str, Any], line: int, source: str) -> Entry:
    def get(*names: str) -> str:
        for n in names:
            v = row.get(n)
            if v is not None and str(v).strip():
                return str(v).strip()
        return ""

    canonical = get("正規形", "canonical")
    kind = get("種別", "kind") or "スキル"
    raw_aliases = row.get("別名", row.get("aliases"))
    if isinstance(raw_aliases, list):
        aliases = tuple(str(a).strip() for a in raw_aliases if str(a).strip())
    else:
        aliases = tuple(a.strip() for a in _ALIAS_SPLIT.split(str(raw_aliases or "")) if a.strip())
    if not canonical:
        raise ThesaurusError(f"{source} {line}行目: 正規形が空です")
    if kind not in SKILL_KINDS + OCCUPATION_KINDS:
        raise ThesaurusError(f"{source} {line}行目: 種別「{kind}」は スキル か 職種 にしてください")
    if not aliases:
        raise ThesaurusError(f"{source} {line}行目: 別名がありません（「{canonical}」）")
    return Entry(canonical, aliases, kind, line)


def read_entries(path: Path) -> list[Entry]:
    """The entries of an operator file; refuses the file at its first bad entry, naming the line."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThesaurusError(f"{source}: 読めません（{type(exc).__name__}）") from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "正規形" not in reader.fieldnames or "別名" not in reader.fieldnames:
            raise ThesaurusError(f"{source}: 見出し行に 正規形,別名（,種別）が必要です")
        return [_entry(row, reader.line_num, source) for row in reader]
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ThesaurusError(f"{source}: .yaml か .csv のファイルにしてください")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ThesaurusError(f"{source}: YAML として読めません（{exc}）".replace("\n", " ")) from exc
    if not isinstance(data, list) or node is None:
        raise ThesaurusError(f"{source}: 項目（正規形・別名・種別）のリストにしてください")
    entries = []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise ThesaurusError(f"{source} {line}行目: 正規形・別名・種別 を持つ項目にしてください")
        entries.append(_entry(item, line, source))
    return entries


def load_vocabulary(operator_file: Path | None = None) -> Vocabulary:
    """The shipped vocabulary, with the operator file's entries applied when one is configured."""
    vocab = shipped()
    if operator_file is None:
        return vocab
    return vocab.with_entries(read_entries(operator_file), operator_file.name)
