"""Cost of the general-synonym layer where it links (docs/performance.md "Match with the vocabulary").

    python bench/match_synonyms.py [--people 200000] [--openings 1000]

`bench/match.py`'s skills are nearly all thesaurus words, so there the layer links nothing. Here the
people's 1–5 skills are drawn from those words, 20 general words (顧客, クライアント, 会議 …) and 300
unknown ones; the openings' 3–6 likewise. Every skill key and linked key is computed as `prepare` does
(`Semantics.skill_key`, `Semantics.linked_keys`), twice each with the layer off and on, in one process.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.match import FAMILIES
from junkan.pool.semantic import Semantics
from junkan.pool.vocabulary import shipped

GENERAL = ["顧客", "クライアント", "会議", "ミーティング", "打ち合わせ", "給与", "賃金", "文書",
           "ドキュメント", "規程", "ルール", "パソコン", "翻訳", "請求書", "取引先", "得意先", "来客",
           "イベント", "電話", "事務所"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--openings", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(3)
    words = sorted({w for _, skills in FAMILIES.values() for w in skills}) + GENERAL
    words += [f"社内ツール{n}" for n in range(300)]
    people = [tuple(rng.sample(words, rng.randint(1, 5))) for _ in range(args.people)]
    openings = [rng.sample(words, rng.randint(3, 6)) for _ in range(args.openings)]
    for on in (False, True, False, True):
        sem = Semantics(shipped(), general_synonyms=on)
        started = time.perf_counter()
        wanted: dict[str, int] = {}
        for skills in openings:
            for w in skills:
                wanted.setdefault(sem.skill_key(w), len(wanted))
        linked = 0
        for person in people:
            keys = tuple(dict.fromkeys(sem.skill_key(w) for w in person))
            linked += len(sem.linked_keys(keys, wanted))
        print(f"general_synonyms={on}: {time.perf_counter() - started:.2f} s, {linked:,} linked keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
