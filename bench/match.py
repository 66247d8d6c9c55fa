"""Benchmark: the re-contact matcher end to end on a synthetic pool, against a naive pure-Python pair loop.

    python bench/match.py --pool 200000 --openings 1000 [--database-url postgresql+psycopg://…/postgres]

A child process builds a scratch database (SQLite file by default; with --database-url a fresh PostgreSQL
database on that server, dropped afterwards): `--pool` rejected candidates with Japanese job
titles, skills, locations, stages, reasons and consents, and `--openings` new open jobs with required and
welcome skills and posting text. This process then runs the real pipeline with timings per phase — read
the signals, pool membership, rule scores, exclusions, new openings, the sparse top-K matcher, building the
explained rows, storing the run — and prints wall time, CPU time (all threads of this process: on a
shared machine the wall time follows the load, the CPU time much less) and peak RSS (of this process
only: the build ran in the child). The matcher runs in `recontact.partition_size` partitions, as a run does.

The naive reference scores sampled (opening, candidate) pairs in a pure-Python loop (dict TF-IDF cosine,
set overlaps, location, potential; the vectors are prepared beforehand and not timed), extrapolates to
every pair, and the speed-up of the matcher phase over it is printed as `N.Nx`.

    python bench/match.py --pool 1000000 --openings 1000 --dask [--partition-size 100000] [--dask-workers 2]

Building takes minutes at 1,000,000 (about 5). `--keep` keeps a copy of the built database (a SQLite file
in `--workdir`, or a PostgreSQL database `junkan_bench_match_built_<pool>`) and prints the `--reuse URL`
that runs on a fresh copy of it instead of building again.

`--dask` also times the matcher phase in partitions, one after another in this process and as Prefect
tasks on a local Dask cluster, with peak memory, and checks both against the one product
(bench/match_dask.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import make_engine, upgrade
from junkan.db.models import Application, Candidate, Consent, Job, RejectionReason
from tests.db_support import fresh_postgresql_database

FAMILIES: dict[str, tuple[list[str], list[str]]] = {
    "エンジニア": (["バックエンドエンジニア", "フロントエンドエンジニア", "インフラエンジニア", "ＳＲＥ",
                  "機械学習エンジニア", "ｻｰﾊﾞｰｻｲﾄﾞエンジニア", "モバイルアプリエンジニア"],
                 ["Python", "Go", "Java", "TypeScript", "React", "AWS", "GCP", "Kubernetes", "Docker", "SQL",
                  "Terraform", "Linux"]),
    "データ": (["データアナリスト", "データサイエンティスト", "データエンジニア", "ＢＩエンジニア"],
             ["SQL", "Python", "統計", "機械学習", "Tableau", "BigQuery", "Excel"]),
    "営業": (["法人営業", "インサイドセールス", "フィールドセールス", "アカウントマネージャー", "営業企画"],
           ["法人営業", "新規開拓", "提案営業", "Salesforce", "英語", "交渉力"]),
    "コーポレート": (["経理", "人事", "労務", "法務", "総務", "財務"],
                ["簿記", "労務管理", "採用", "契約書レビュー", "Excel", "英語"]),
    "マーケティング": (["マーケティング", "デジタルマーケター", "ＰＲ", "コンテンツマーケター"],
                  ["SEO", "広告運用", "Google Analytics", "SNS運用", "ライティング"]),
    "CS": (["カスタマーサクセス", "ｶｽﾀﾏｰｻﾎﾟｰﾄ", "テクニカルサポート"],
           ["顧客対応", "Zendesk", "SaaS", "英語", "課題解決"]),
}
PREFIX = ["", "", "", "シニア", "ジュニア", "リード", "新規事業", "SaaS", "EC", "フィンテック"]
PLACES = ["東京都渋谷区", "東京都千代田区", "東京都港区", "大阪府大阪市", "神奈川県横浜市", "愛知県名古屋市",
          "福岡県福岡市", "北海道札幌市", "京都府京都市", None]
JOB_PLACES = ["東京都", "東京都", "大阪府", "神奈川県", "愛知県", "福岡県", "フルリモート", "東京都、大阪府"]
STAGES = ["書類選考", "一次面接", "二次面接", "最終面接"]
REASONS = [("他の候補者を優先", "other_candidate", "silver"), ("ポジション充足", "position_filled", "silver"),
           ("スキル不足", "skills", "standard"), ("経験不足", "experience", "standard"),
           ("希望年収の不一致", "compensation", "standard"),
           ("最終面接にて総合判断", "final_interview", "standard"),
           ("スパム応募", "spam", "never")]
DESC = "チームの一員として{t}の業務を担当します。{s}の経験を活かし、プロダクトの成長に貢献していただきます。"


def _title(rng: random.Random, family: str) -> str:
    return rng.choice(PREFIX) + rng.choice(FAMILIES[family][0])


def build(url: str, pool: int, openings: int, seed: int) -> None:
    """Write the synthetic company into `url` (already migrated)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = make_engine(url)
    fams = list(FAMILIES)
    with Session(engine) as s:
        reasons = []
        for k, (name, cat, elig) in enumerate(REASONS):
            reasons.append(s.execute(RejectionReason.__table__.insert().returning(RejectionReason.id), {
                "source": "bench", "external_id": f"R{k}", "name": name, "kind": "rejected", "category": cat,
                "pool_eligibility": elig, "mapping_version": "bench"}).scalar_one())
        past_jobs = []
        for k in range(300):
            fam = fams[k % len(fams)]
            past_jobs.append((fam, s.execute(Job.__table__.insert().returning(Job.id), {
                "source": "bench", "external_id": f"P{k}", "title": _title(rng, fam), "department": fam,
                "status": "closed", "updated_at": now, "opened_at": now - timedelta(days=600)}).scalar_one()))
        job_rows = []
        for k in range(openings):
            fam = rng.choice(fams)
            skills = FAMILIES[fam][1]
            req = rng.sample(skills, min(len(skills), rng.randint(2, 4)))
            pref = rng.sample([x for x in skills if x not in req], min(2, len(skills) - len(req)))
            title = _title(rng, fam)
            job_rows.append({"source": "bench", "external_id": f"N{k}", "title": title, "department": fam,
                             "status": "open", "opened_at": now - timedelta(days=rng.randint(1, 10)),
                             "updated_at": now, "required_skills": req, "preferred_skills": pref,
                             "location": rng.choice(JOB_PLACES),
                             "description": DESC.format(t=title, s="、".join(req))})
        s.execute(Job.__table__.insert(), job_rows)
        s.commit()
        batch = 20_000
        for start in range(0, pool, batch):
            n = min(batch, pool - start)
            cands, apps, consents = [], [], []
            for i in range(start, start + n):
                fam, job_id = rng.choice(past_jobs)
                skills = rng.sample(FAMILIES[fam][1], rng.randint(1, 5))
                cands.append({"id": i + 1, "email_key": f"c{i}@bench.example", "display_name": None,
                              "locale": "ja", "tags": [fam] if rng.random() < 0.3 else [], "skills": skills,
                              "location": rng.choice(PLACES), "created_at": now, "updated_at": now})
            s.execute(Candidate.__table__.insert(), cands)
            app_id = start * 2
            for c in cands:
                fam, job_id = rng.choice(past_jobs)
                for extra in range(2 if rng.random() < 0.15 else 1):
                    app_id += 1
                    decided = now - timedelta(days=rng.randint(120, 540) + 30 * extra)
                    reason = rng.choice(reasons)
                    apps.append({"id": app_id, "source": "bench", "external_id": f"A{app_id}",
                                 "candidate_id": c["id"],
                                 "job_id": job_id if extra == 0 else rng.choice(past_jobs)[1],
                                 "status": "rejected" if rng.random() < 0.9 else "withdrawn",
                                 "applied_at": decided - timedelta(days=30), "decided_at": decided,
                                 "reason_id": reason, "stage_reached": rng.choice(STAGES),
                                 "is_reapplication": False, "content_hash": "b", "created_at": now,
                                 "updated_at": now})
                if rng.random() < 0.8:
                    consents.append({"candidate_id": c["id"], "purpose": "talent_pool", "granted": True,
                                     "recorded_at": now - timedelta(days=100), "source": "bench"})
                if rng.random() < 0.6:
                    consents.append({"candidate_id": c["id"], "purpose": "recontact", "granted": True,
                                     "recorded_at": now - timedelta(days=100), "source": "bench"})
            s.execute(Application.__table__.insert(), apps)
            s.execute(Consent.__table__.insert(), consents)
            s.commit()
    engine.dispose()


def keep_built(args: argparse.Namespace, url: str) -> None:
    """Keep the built data before the run writes its results (a later run would see them as the previous
    run and find no new opening): a copy of the SQLite file in `--workdir`, or a PostgreSQL database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kept = args.workdir / f"match-bench-{args.pool}.db"
        shutil.copyfile(str(parsed.database), kept)
        print(f"kept the built database: --reuse sqlite:///{kept}")
        return
    with fresh_postgresql_database(url, f"junkan_bench_match_built_{args.pool}", drop=False,
                                   template=parsed.database) as kept:
        print(f"kept the built database: --reuse {kept}")


@contextmanager
def reused(args: argparse.Namespace) -> Iterator[str]:
    """A fresh copy of a database kept by `--keep`, so that every run starts from the same built data,
    migrated to this checkout's schema."""
    url = make_url(args.reuse)
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            copy = Path(tmp) / "match-bench.db"
            shutil.copyfile(str(url.database), copy)
            upgrade(f"sqlite:///{copy}")  # kept by an older checkout: the schema this code reads
            yield f"sqlite:///{copy}"
        return
    with fresh_postgresql_database(args.reuse, f"junkan_bench_match_{os.getpid()}",
                                   template=url.database) as copy:
        yield copy


@contextmanager
def scratch(args: argparse.Namespace) -> Iterator[str]:
    if not args.database_url:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            url = f"sqlite:///{Path(tmp) / 'match-bench.db'}"
            upgrade(url)
            yield url
        return
    name = f"junkan_bench_match_{os.getpid()}"
    with fresh_postgresql_database(args.database_url, name) as url:
        yield url


def naive_seconds_per_pair(signals, eligible, potential, targets, weights, sample: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    """A straightforward pure-Python matcher: every pair scored in a loop. Vectors prepared beforehand."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from junkan.pool.matcher import location_keys, normalize, skill_key, target_text

    rng = random.Random(seed)
    pool = np.flatnonzero(eligible)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), preprocessor=normalize)
    cand_idx = [int(pool[rng.randrange(len(pool))]) for _ in range(sample)]
    tgt_idx = [rng.randrange(len(targets)) for _ in range(sample)]
    docs = [signals.docs[i] for i in cand_idx] + [target_text(targets[k], 200) for k in tgt_idx]
    matrix = vec.fit_transform(docs).tocsr()

    def as_dict(row: int) -> dict[int, float]:
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        return dict(zip(matrix.indices[lo:hi].tolist(), matrix.data[lo:hi].tolist(), strict=True))

    cand_vecs = [as_dict(r) for r in range(sample)]
    job_vecs = [as_dict(sample + r) for r in range(sample)]
    cand_skills = [{skill_key(x) for x in (*signals.skills[i], *signals.ats_tags[i])} for i in cand_idx]
    cand_loc = [location_keys(signals.location[i])[0] for i in cand_idx]
    req = [{skill_key(x) for x in targets[k].required_skills} for k in tgt_idx]
    pref = [{skill_key(x) for x in targets[k].preferred_skills} for k in tgt_idx]
    job_loc = [location_keys(targets[k].location) for k in tgt_idx]
    w = weights
    started = time.perf_counter()
    total = 0.0
    for n in range(sample):
        a, b = job_vecs[n], cand_vecs[n]
        text_sim = sum(v * b.get(k, 0.0) for k, v in a.items())
        r = len(req[n] & cand_skills[n]) / len(req[n]) if req[n] else 0.0
        p = len(pref[n] & cand_skills[n]) / len(pref[n]) if pref[n] else 0.0
        places, remote = job_loc[n]
        loc = 1.0 if remote or (places & cand_loc[n]) else 0.0
        score = (w.required_skills * r + w.preferred_skills * p + w.text * text_sim + w.location * loc
                 + w.potential * potential[cand_idx[n]] / 100.0)
        total += score
    return (time.perf_counter() - started) / sample


def run_matcher(url: str, sample: int, threads: int | None, seed: int,
                dask: tuple[int, int] | None = None) -> None:
    from junkan.pool.eligibility import pool_membership
    from junkan.pool.exclusions import eligible, exclusion_masks
    from junkan.pool.matcher import match
    from junkan.pool.model import ensure_model
    from junkan.pool.openings import find_new_targets
    from junkan.pool.runs import RunPlan, explained_rows, semantics_of, store_run
    from junkan.pool.scoring import rule_scores
    from junkan.pool.signals import load_signals

    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    cfg = settings.recontact
    engine = make_engine(url)
    now = datetime.now(UTC)
    as_of = now.date()
    phases: dict[str, float] = {}
    # CPU seconds of this process per phase (all its threads): on a shared machine the wall time grows
    # with the load, the CPU time much less, so both are printed.
    cpu: dict[str, float] = {}
    cpu_mark = [time.process_time()]

    def lap(name: str, started: float) -> float:
        phases[name] = time.perf_counter() - started
        cpu[name] = time.process_time() - cpu_mark[0]
        cpu_mark[0] = time.process_time()
        return time.perf_counter()

    wall = t = time.perf_counter()
    with Session(engine) as session:
        signals = load_signals(session, settings, now)
        t = lap("read signals (DB)", t)
        gc.freeze()  # as `plan_run` does (junkan.pool.bulk.heap_frozen)
        membership = pool_membership(signals, settings, now)
        _model, report = ensure_model(session, settings, now)
        scores = rule_scores(signals, now, membership.mask)
        keep, excluded = eligible(membership.mask, exclusion_masks(signals, settings, as_of))
        t = lap("pool, potential score, exclusions", t)
        new = find_new_targets(session, settings, now)
        t = lap("new openings (DB)", t)
        semantics = semantics_of(settings, signals)
        t = lap("vocabulary (classify, learn links)", t)

        def run(**how: Any) -> Any:
            # In partitions of `recontact.partition_size`, one after another, as a `recontact` run does.
            how.setdefault("partition_size", cfg.partition_size)
            return match(signals, keep, scores.score, new.targets, cfg.weights, top_k=cfg.top_k,
                         threshold=cfg.threshold, text_max_chars=cfg.text_max_chars, n_threads=threads,
                         semantics=how.pop("semantics", semantics), **how)

        found = run()
        t = lap("matcher (TF-IDF + sparse top-K)", t)
        # Today's matcher without the semantic parts, for the comparison only (not in the wall time).
        plain_started, plain_cpu = time.perf_counter(), time.process_time()
        run(semantics=None)
        plain_s, plain_cpu = time.perf_counter() - plain_started, time.process_time() - plain_cpu
        wall += plain_s
        t = time.perf_counter()
        cpu_mark[0] = time.process_time()
        if dask:
            from bench.match_dask import compare

            compared = time.perf_counter()
            compare(run, found, settings, partition_size=dask[0], workers=dask[1])
            wall += time.perf_counter() - compared  # the comparison is not part of the pipeline's time
            t = time.perf_counter()
            cpu_mark[0] = time.process_time()
        plan = RunPlan(as_of=as_of, now=now, mode="shortlist", new=new, signals=signals,
                       membership=membership, scores=scores, model_report=report, eligible=keep,
                       excluded=excluded, matches=found, holdout_key=as_of.isoformat(), semantics=semantics)
        plan.rows = explained_rows(plan, settings)
        t = lap("explained rows", t)
        store_run(session, settings, plan)
        session.commit()
        t = lap("store run (DB)", t)
    gc.unfreeze()
    total = time.perf_counter() - wall
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_pairs = int(keep.sum()) * len(new.targets)
    print(f"pool {len(signals):,} candidates, {membership.size:,} members, {int(keep.sum()):,} eligible; "
          f"{len(new.targets):,} new openings; {len(plan.rows):,} matches kept")
    print(f"  {'phase':<36} {'wall':>9} {'CPU':>9}")
    for name, seconds in phases.items():
        print(f"  {name:<36} {seconds:7.2f} s {cpu[name]:7.2f} s")
    print(f"wall time (end to end, DB reads and writes included): {total:.1f} s "
          f"(CPU time {sum(cpu.values()):.1f} s)")
    semantic_s = phases["vocabulary (classify, learn links)"] + phases["matcher (TF-IDF + sparse top-K)"]
    semantic_cpu = cpu["vocabulary (classify, learn links)"] + cpu["matcher (TF-IDF + sparse top-K)"]
    print(f"matcher phase with the semantic parts (vocabulary + product): {semantic_s:.2f} s; without them "
          f"(the matcher before issue 21): {plain_s:.2f} s; ratio {semantic_s / plain_s:.2f}x "
          f"(CPU {semantic_cpu:.2f} s vs {plain_cpu:.2f} s: {semantic_cpu / plain_cpu:.2f}x)")
    print(f"peak RSS: {rss_mb:,.0f} MB")
    per_pair = naive_seconds_per_pair(signals, keep, scores.score, new.targets, cfg.weights, sample, seed)
    naive_total = per_pair * n_pairs
    matcher_s = phases["matcher (TF-IDF + sparse top-K)"]
    print(f"naive pure-Python loop: {per_pair * 1e6:.2f} µs per pair on {sample:,} sampled pairs, "
          f"× {n_pairs:,} pairs ≈ {naive_total:,.0f} s (scoring only, no top-K, no text vectorising)")
    print(f"speed-up of the matcher over the naive loop: {naive_total / matcher_s:.1f}x "
          f"(end to end: {naive_total / total:.1f}x)")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=200_000, help="rejected candidates (default 200000)")
    parser.add_argument("--openings", type=int, default=1000, help="new openings (default 1000)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL to create a scratch database on; SQLite file otherwise")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--sample", type=int, default=20_000, help="pairs timed in the naive loop")
    parser.add_argument("--threads", type=int, default=None, help="sparse_dot_topn threads (default: ≤2)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep a copy of the built database (see --reuse)")
    parser.add_argument("--reuse", metavar="URL",
                        help="run on a copy of a database kept by --keep (sqlite:///path or a PostgreSQL URL)"
                             " instead of building one; --pool and --openings are then what it holds")
    parser.add_argument("--dask", action="store_true",
                        help="also time the matcher in partitions (here and on a local Dask cluster)")
    parser.add_argument("--partition-size", type=int, default=100_000, help="with --dask (default 100000)")
    parser.add_argument("--dask-workers", type=int, default=2, help="with --dask (default 2)")
    parser.add_argument("--build-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.build_only, args.pool, args.openings, args.seed)
        return 0
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    if args.reuse:
        with reused(args) as url:
            print(f"reusing the database built before ({make_url(url).get_backend_name()}, a copy)")
            run_matcher(url, args.sample, args.threads, args.seed,
                        (args.partition_size, args.dask_workers) if args.dask else None)
        print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    with scratch(args) as url:
        started = time.perf_counter()
        # The build runs in a child so that the peak RSS printed below is the matcher's alone.
        subprocess.run([sys.executable, __file__, "--build-only", url, "--pool", str(args.pool),
                        "--openings", str(args.openings), "--seed", str(args.seed)], check=True)
        print(f"built {args.pool:,} candidates and {args.openings:,} openings in "
              f"{time.perf_counter() - started:.1f} s ({make_url(url).get_backend_name()})")
        if args.keep:
            keep_built(args, url)
        run_matcher(url, args.sample, args.threads, args.seed,
                    (args.partition_size, args.dask_workers) if args.dask else None)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

