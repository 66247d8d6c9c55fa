"""Benchmark: ingest N applications from a CSV export into PostgreSQL, against a plain COPY floor.

    python bench/ingest.py --n 100000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It creates a fresh database next to the one in --database-url (and drops it afterwards unless --keep),
writes a realistic export (Japanese headers, ~15% re-applicants, ~200 jobs, reasons), then times:
- the floor: `COPY … FROM STDIN (FORMAT csv)` of the same file into an unindexed table of text columns;
- the ingest: `junkan.ingest.ingest` through the real CSV adapter (parse, normalise, validate, bulk
  upserts of candidates/jobs/reasons/applications, decision log, re-application detection, watermark);
- a second ingest of the same file (the idempotent no-change path).
It prints rows/s for each, the ratio to the floor, the process's peak RSS, and the CPU time (user+sys)
per 1,000 rows of this process and of the PostgreSQL backends serving it (read from /proc when the
server runs on this machine), so runs on a busy machine can still be compared.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy.engine import make_url

from junkan.ats.csv_source import CsvAdapter
from junkan.db import make_engine
from junkan.ingest import ingest
from junkan.ingest.service import DEFAULT_BATCH_SIZE
from tests.db_support import fresh_postgresql_database

HEADERS = ["応募ID", "氏名", "メールアドレス", "電話番号", "応募日", "求人ID", "求人", "選考段階", "選考結果",
           "不採用理由", "選考結果日", "タレントプール同意"]
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN = ["太郎", "花子", "翔", "美咲", "健太", "陽菜", "大輝", "結衣", "蓮", "葵", "悠真", "さくら"]
ROLES = ["営業", "エンジニア", "データアナリスト", "人事", "経理", "マーケティング", "カスタマーサクセス",
         "デザイナー"]
REASONS = ["スキル不足", "経験不足", "他の候補者を優先", "ポジション充足", "カルチャーフィット",
           "希望年収の不一致", "重複応募", "最終面接にて総合判断"]
STAGES = ["書類選考", "一次面接", "二次面接", "最終面接"]


def generate(path: Path, n: int, seed: int = 42) -> None:
    """N applications by ~0.85 N candidates for ~200 jobs over 12 months, streamed to disk."""
    rng = random.Random(seed)
    start = date(2025, 11, 1)
    people: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(n):
            if people and rng.random() < 0.15:
                person = rng.choice(people)  # a re-applicant
            else:
                person = i
                people.append(person)
            applied = start + timedelta(days=(i * 365) // n)
            roll = rng.random()
            status = ("不採用" if roll < 0.62 else "選考中" if roll < 0.85
                      else "辞退" if roll < 0.93 else "採用")
            job = rng.randrange(200)
            decided = applied + timedelta(days=rng.randint(7, 40))
            writer.writerow([
                f"APP-{i:07d}",
                f"{FAMILY[person % len(FAMILY)]} {GIVEN[(person // 12) % len(GIVEN)]}",
                f"cand{person}@example.jp" if person % 40 else f"ＣＡＮＤ{person}＠ＥＸＡＭＰＬＥ．ＪＰ",
                f"090-{person % 10000:04d}-{(person // 10000) % 10000:04d}",
                applied.strftime("%Y/%m/%d"),
                f"JOB-{job:03d}",
                f"{ROLES[job % len(ROLES)]}（{job // len(ROLES) + 1}）",
                rng.choice(STAGES),
                status,
                rng.choice(REASONS) if status in ("不採用", "辞退") else "",
                decided.strftime("%Y-%m-%d") if status != "選考中" else "",
                "はい" if rng.random() < 0.4 else "いいえ",
            ])


def copy_floor(dsn: str, path: Path) -> float:
    """Seconds for a plain COPY of the file into an unindexed table (the fastest PostgreSQL gets)."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE copy_floor ({columns})")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY copy_floor FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE copy_floor")
    return elapsed


def backend_cpu_s(dsn: str, database: str) -> float | None:
    """CPU seconds (user+sys) used so far by the server processes connected to `database`, or None
    when they are not readable (server on another machine)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed(run, dsn: str, database: str):  # type: ignore[no-untyped-def]
    """(result, wall s, this process's CPU s, server CPU s or None) of run()."""
    server_before = backend_cpu_s(dsn, database)
    times_before, started = os.times(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    times_after = os.times()
    server_after = backend_cpu_s(dsn, database)
    cpu = (times_after.user - times_before.user) + (times_after.system - times_before.system)
    server = server_after - server_before if server_before is not None and server_after is not None else None
    return result, wall, cpu, server


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100_000, help="applications to generate (default 100000)")
    parser.add_argument("--database-url", default=os.environ.get(
        "JUNKAN_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL; the benchmark creates (and drops) its own database on that server")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"))
    parser.add_argument("--keep", action="store_true", help="keep the database and the CSV afterwards")


@contextmanager
def scratch_database(parser: argparse.ArgumentParser, args: argparse.Namespace,
                     prefix: str) -> Iterator[tuple[str, str, Path]]:
    """A fresh, migrated database and the generated export: (SQLAlchemy URL, libpq DSN, CSV path).
    Both are removed afterwards unless --keep."""
    admin = make_url(args.database_url)
    if not admin.drivername.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL (COPY is the floor it compares against)")
    name = f"{prefix}_{os.getpid()}"
    csv_path = args.workdir / f"{name}.csv"
    with fresh_postgresql_database(args.database_url, name, drop=not args.keep) as url:
        try:
            started = time.perf_counter()
            generate(csv_path, args.n)
            print(f"generated {args.n:,} applications ({csv_path.stat().st_size / 1e6:.1f} MB) "
                  f"in {time.perf_counter() - started:.1f} s")
            yield url, url.replace("postgresql+psycopg://", "postgresql://"), csv_path
        finally:
            if not args.keep:
                csv_path.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args()

    with scratch_database(parser, args, "junkan_bench_ingest") as (url, dsn, csv_path):
        name = make_url(url).database
        floor_s = copy_floor(dsn, csv_path)
        engine = make_engine(url)
        load_before = os.getloadavg()[0]

        def run_ingest():  # type: ignore[no-untyped-def]
            adapter = CsvAdapter(csv_path, source="bench")
            return ingest(engine, adapter, as_of=None, batch_size=args.batch_size)

        counts, ingest_s, ingest_cpu, ingest_server = timed(run_ingest, dsn, name)
        again, rerun_s, rerun_cpu, rerun_server = timed(run_ingest, dsn, name)
        load_after = os.getloadavg()[0]
        engine.dispose()

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        copy_rate, ingest_rate, rerun_rate = args.n / floor_s, args.n / ingest_s, args.n / rerun_s
        print(f"ingest counts: {counts.as_dict()}")
        print(f"re-run counts: new={again.new} updated={again.updated} unchanged={again.unchanged}")
        print(f"COPY floor     : {floor_s:8.2f} s  {copy_rate:10,.0f} rows/s")
        print(f"ingest         : {ingest_s:8.2f} s  {ingest_rate:10,.0f} rows/s  "
              f"({ingest_rate / copy_rate:.1%} of COPY; goal >= 25%)")
        print(f"re-run (no-op) : {rerun_s:8.2f} s  {rerun_rate:10,.0f} rows/s")
        per_k = 1000 / args.n * 1000  # seconds per run -> ms per 1,000 rows

        def server(value: float | None) -> str:
            return f"{value * per_k:6.0f} ms" if value is not None else "   n/a"

        print(f"CPU per 1k rows: ingest {ingest_cpu * per_k:6.0f} ms here + {server(ingest_server)} in "
              f"PostgreSQL; re-run {rerun_cpu * per_k:6.0f} ms here + {server(rerun_server)} in PostgreSQL")
        print(f"peak RSS       : {peak_mb:8.0f} MB (goal < 300 MB)")
        print(f"load average   : {load_before:.1f} before, {load_after:.1f} after the ingests "
              f"({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
