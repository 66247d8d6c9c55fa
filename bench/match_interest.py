"""Benchmark: what the stated-interest block (docs/pool.md "The person's own choices") costs the matcher.

    python bench/match_interest.py --pool 50000 --openings 200 [--share 0.1]

Builds bench/match.py's synthetic pool in a scratch SQLite file, then times the matcher phase (the sparse
top-K product with the semantic parts) on the same signals, five times each, interleaved: nobody stated
an interest (the block is empty), and `--share` of the eligible pool stated two occupation families drawn
from the openings' families. Prints each time and how many pairs the interest moved into
the kept top-K.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import make_engine, upgrade


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=50_000)
    parser.add_argument("--openings", type=int, default=200)
    parser.add_argument("--share", type=float, default=0.1, help="share of the pool with a stated interest")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="profile one matcher call with interests")
    args = parser.parse_args()

    from junkan.pool.eligibility import pool_membership
    from junkan.pool.exclusions import eligible, exclusion_masks
    from junkan.pool.matcher import match
    from junkan.pool.openings import find_new_targets
    from junkan.pool.runs import semantics_of
    from junkan.pool.scoring import rule_scores
    from junkan.pool.signals import load_signals

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        # The build runs in a child, as bench/match.py does it.
        subprocess.run([sys.executable, str(Path(__file__).with_name("match.py")), "--build-only", url,
                        "--pool", str(args.pool), "--openings", str(args.openings), "--seed", str(args.seed)],
                       check=True)
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        cfg = settings.recontact
        now = datetime.now(UTC)
        with Session(make_engine(url)) as session:
            signals = load_signals(session, settings, now)
            membership = pool_membership(signals, settings, now)
            scores = rule_scores(signals, now, membership.mask)
            keep, _ = eligible(membership.mask, exclusion_masks(signals, settings, now.date()))
            targets = find_new_targets(session, settings, now).targets
        semantics = semantics_of(settings, signals)
        assert semantics is not None
        families = sorted({o.family for t in targets if (o := semantics.target_occupation(t)) is not None})
        rng = random.Random(args.seed)
        interests = [tuple(rng.sample(families, 2)) if ok and rng.random() < args.share else ()
                     for ok in keep]

        def timed(stated: list[tuple[str, ...]]) -> tuple[float, set[tuple[int, int]]]:
            started = time.perf_counter()
            found = match(signals, keep, scores.score, targets, cfg.weights, top_k=cfg.top_k,
                          threshold=cfg.threshold, text_max_chars=cfg.text_max_chars, semantics=semantics,
                          interests=stated, interest_bonus=cfg.interest_bonus)
            return time.perf_counter() - started, set(zip(found.target.tolist(), found.cand.tolist(),
                                                          strict=True))

        timed([])  # warm the vocabulary's caches
        if args.profile:
            import cProfile
            cProfile.runctx("timed(interests)", globals(), locals(), sort="cumulative")
            return 0
        # Interleaved, so that a busy machine slows both alike.
        plain, stated = [], []
        for _ in range(5):
            plain.append(timed([]))
            stated.append(timed(interests))
        moved = len(stated[0][1] - plain[0][1])
        people = sum(1 for i in interests if i)
        print(f"{int(keep.sum()):,} eligible, {len(targets):,} openings, {len(families)} families; "
              f"{people:,} people with a stated interest")
        print(f"matcher, nobody stated an interest: {statistics.median(s for s, _ in plain):.2f} s "
              "(median of 5)")
        print(f"matcher, {args.share:.0%} stated two families: "
              f"{statistics.median(s for s, _ in stated):.2f} s; {moved:,} of {len(stated[0][1]):,} kept "
              "pairs are new")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
