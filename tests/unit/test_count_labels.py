"""Every count a flow can publish has a Japanese and an English label (junkan/count_labels.py).

The counts come from the results' own definitions: a count added to a tally, a new exclusion or retention
rule, a table holding someone's data, a suppression list or an ATS write action fails here until it is
labelled. The flow tests read the published tables (tests/flows/_artifacts.py `labelled_counts`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import defaultdict
from collections.abc import Iterator

import pytest

import junkan
from flows.sync_partner_stats import _TOTALS
from junkan.count_labels import FAMILIES, LABELS, Label, label, shown
from junkan.engagement.suppressions import ASM_GROUP_LIST, LISTS
from junkan.outbox.notices import flow_counts
from junkan.outbox.outcomes import SendCounts
from junkan.outbox.renewal_mail import RenewalEnqueue, RenewalRun
from junkan.outbox.settle import Settled
from junkan.pool.approval import Decision
from junkan.pool.exclusions import APPLIED_RULE
from junkan.pool.exclusions import RULES as EXCLUSIONS
from junkan.pool.writeback import MATCH_ACTIONS
from junkan.privacy.rules import RULES as RETENTION
from junkan.privacy.tables import PERSON_TABLES
from junkan.tally import Tally, _count_names

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _tallies() -> Iterator[type[Tally]]:
    for module in pkgutil.walk_packages(junkan.__path__, "junkan."):
        importlib.import_module(module.name)
    pending = list(Tally.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        yield cls


def _published_keys() -> set[str]:
    keys: set[str] = set()
    for cls in _tallies():
        keys |= {cls.RENAMED.get(name, name) for name in _count_names(cls)}
    keys |= flow_counts(defaultdict(int), defaultdict(int), dry_run=False).keys()
    keys |= Settled([], 0, 0).counts().keys() | Decision().counts().keys()
    keys |= RenewalRun(RenewalEnqueue(), 0, SendCounts()).counts().keys()
    keys |= {"partners", *_TOTALS, "balance", "value_yen"}
    keys |= {f"excluded_{rule}" for rule in (*EXCLUSIONS, APPLIED_RULE)}
    keys |= {f"anonymised_{rule}" for rule in RETENTION} | {f"rows_{name}" for name in PERSON_TABLES}
    keys |= {f"{name}_{what}" for name in (*(s.name for s in LISTS), ASM_GROUP_LIST)
             for what in ("fetched", "added")}
    keys |= {f"{action}_{outcome}" for action in (*MATCH_ACTIONS, "reapplied_note", "hired_note")
             for outcome in ("written", "already_there", "failed", "would_write")}
    return keys


def test_every_count_a_flow_publishes_has_a_label() -> None:
    keys = _published_keys()
    assert {"sent", "excluded_cooldown", "renewals_sent", "rows_candidate", "bounces_added"} <= keys
    assert sorted(key for key in keys if label(key) is None) == []


def _labels() -> Iterator[Label]:
    yield from LABELS.values()
    for family in FAMILIES:
        yield from family.heads.values()
        yield from family.tails.values()


@pytest.mark.parametrize("text", list(_labels()), ids=lambda pair: pair.en)
def test_each_label_is_japanese_first_then_english(text: Label) -> None:
    assert JAPANESE.search(text.ja) and not JAPANESE.search(text.en)
    assert not re.search(r"[a-z]+_[a-z_]+", text.ja + text.en)  # no machine key shows through


def test_a_two_part_key_reads_as_both_parts_and_an_unknown_key_shows_as_it_is() -> None:
    assert shown("renewals_sent") == Label("同意更新メール：送信済み", "consent renewals: sent")
    assert shown("excluded_cooldown") == Label("マッチ対象外：クールダウン期間中",
                                               "excluded: in the cool-down")
    assert shown("tag_written") == Label("ATS へのタグ：書き込み済み", "ATS tags: written")
    assert label("renewals_nonsense") is None and shown("new_thing") == Label("new_thing", "new_thing")
