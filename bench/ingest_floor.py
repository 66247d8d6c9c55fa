"""Benchmark: the least work any ingest design must do on Junkan's schema, against the COPY floor.

    python bench/ingest_floor.py --n 100000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

`bench/ingest.py` measures the real ingest. This script answers a different question: how fast could
*any* ingest be, however it is written, given the tables the issue asks for (candidate, application,
decision log with the raw payload, consent, plus jobs and reasons)? It takes the same export as
`bench/ingest.py`, COPYs it into a temporary staging table, then writes it with the simplest set-based
SQL a hand-written loader would use: one `INSERT … SELECT` per table, normalisation done by
PostgreSQL (`normalize(…, NFKC)`, `lower()`), no validation, no quarantine, no content hash in
Python, no re-application detection, no consent history. Every shortcut makes it faster than a
correct ingest can be, so its rate is an upper bound. Each scenario runs in a transaction that is
rolled back, on the schema `junkan db upgrade` creates.

Scenarios:
- `schema`: the real schema, foreign keys checked;
- `no-fk`: the same with foreign-key triggers off (`session_replication_role = replica`, superuser
  only), the bound for a design that gave up referential integrity.

It prints each step's seconds, the total, the rate as a share of COPY's, and the time budget the
25 %-of-COPY goal allows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from ingest import HEADERS, add_common_arguments, copy_floor, scratch_database

_STAGE_COLUMNS = ", ".join(f"c{i}" for i in range(len(HEADERS)))
_RAW_PAYLOAD = ", ".join(f"'{header}', c{i}" for i, header in enumerate(HEADERS))

#: (step, SQL) in the order a loader must run them: parents before the rows that reference them.
STEPS: list[tuple[str, str]] = [
    ("normalise in SQL (NFKC, case, dates, status, raw JSON)", f"""
        CREATE TEMP TABLE norm ON COMMIT DROP AS SELECT
            rn, c0 AS ext, lower(regexp_replace(normalize(c2, NFKC), '\\s', '', 'g')) AS email,
            '+81' || substr(translate(normalize(c3, NFKC), '-() ', ''), 2) AS phone,
            normalize(c1, NFKC) AS name, to_timestamp(c4, 'YYYY/MM/DD') AS applied, c5 AS job,
            CASE c8 WHEN '不採用' THEN 'rejected' WHEN '選考中' THEN 'in_process'
                    WHEN '辞退' THEN 'withdrawn' ELSE 'hired' END AS status,
            nullif(c9, '') AS reason, nullif(c10, '')::date::timestamptz AS decided, c7 AS stage,
            c11 = 'はい' AS consent, md5(concat_ws(',', {_STAGE_COLUMNS})) AS hash,
            json_build_object({_RAW_PAYLOAD}, '_row', rn + 1) AS raw
        FROM stage"""),
    ("jobs", """
        INSERT INTO job (source, external_id, title, status, updated_at)
        SELECT DISTINCT ON (job) 'floor', job, job, 'open', now() FROM norm"""),
    ("rejection reasons", """
        INSERT INTO rejection_reason (source, external_id, name, kind, category, pool_eligibility,
                                      mapping_version)
        SELECT DISTINCT 'floor', reason, reason, 'rejected', 'other', 'standard', '1'
        FROM norm WHERE reason IS NOT NULL"""),
    ("candidates (de-duplicated by e-mail)", """
        INSERT INTO candidate (email_key, phone_key, display_name, locale, tags, created_at, updated_at)
        SELECT DISTINCT ON (email) email, phone, name, 'ja', '[]', now(), now()
        FROM norm ORDER BY email, rn DESC"""),
    ("applications", """
        INSERT INTO application (source, external_id, candidate_id, job_id, status, applied_at, decided_at,
                                 reason_id, reason_text, stage_reached, is_reapplication, content_hash,
                                 created_at, updated_at)
        SELECT 'floor', n.ext, c.id, j.id, n.status, n.applied, n.decided, r.id, n.reason, n.stage, false,
               n.hash, now(), now()
        FROM norm n JOIN candidate c ON c.email_key = n.email
        LEFT JOIN job j ON j.source = 'floor' AND j.external_id = n.job
        LEFT JOIN rejection_reason r ON r.source = 'floor' AND r.external_id = n.reason"""),
    ("decision log (raw payload as JSONB)", """
        INSERT INTO decision_log (application_id, new_status, decided_at, recorded_at, source, payload)
        SELECT a.id, a.status, a.decided_at, now(), 'floor', n.raw
        FROM norm n JOIN application a ON a.source = 'floor' AND a.external_id = n.ext"""),
    ("consents (latest answer per candidate)", """
        INSERT INTO consent (candidate_id, purpose, granted, recorded_at, source, wording_version)
        SELECT DISTINCT ON (c.id) c.id, 'talent_pool', n.consent, n.applied, 'floor', 'ats'
        FROM norm n JOIN candidate c ON c.email_key = n.email ORDER BY c.id, n.applied DESC"""),
]


def run_scenario(dsn: str, csv_path: Path, *, foreign_keys: bool) -> list[tuple[str, float]] | None:
    """Seconds per step (the COPY into staging first), rolled back; None if FKs cannot be turned off."""
    timings: list[tuple[str, float]] = []
    with psycopg.connect(dsn) as conn:
        if not foreign_keys:
            try:
                conn.execute("SET LOCAL session_replication_role = replica")
            except psycopg.errors.InsufficientPrivilege:
                return None
        conn.execute(f"CREATE TEMP TABLE stage ({', '.join(f'c{i} text' for i in range(len(HEADERS)))}, "
                     "rn bigserial) ON COMMIT DROP")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                f"COPY stage ({_STAGE_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                csv_path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        timings.append(("COPY the export into a staging table", time.perf_counter() - started))
        for name, sql in STEPS:
            started = time.perf_counter()
            conn.execute(sql)  # type: ignore[arg-type]
            timings.append((name, time.perf_counter() - started))
        conn.rollback()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args()

    with scratch_database(parser, args, "junkan_bench_floor") as (_, dsn, csv_path):
        copy_s = copy_floor(dsn, csv_path)
        copy_rate = args.n / copy_s
        budget_s = args.n / (0.25 * copy_rate)
        print(f"COPY floor: {copy_s:.2f} s, {copy_rate:,.0f} rows/s; the 25 % goal allows {budget_s:.2f} s "
              f"for {args.n:,} rows")
        for label, foreign_keys in (("schema", True), ("no-fk", False)):
            timings = run_scenario(dsn, csv_path, foreign_keys=foreign_keys)
            if timings is None:
                print(f"\n[{label}] skipped: turning foreign-key triggers off needs a superuser")
                continue
            total = sum(seconds for _, seconds in timings)
            print(f"\n[{label}] set-based load, {'foreign keys checked' if foreign_keys else 'no FK checks'}")
            for step, seconds in timings:
                print(f"  {step:<56} {seconds:6.2f} s  ({seconds / budget_s:5.0%} of the budget)")
            print(f"  {'total':<56} {total:6.2f} s  {args.n / total:8,.0f} rows/s = "
                  f"{args.n / total / copy_rate:.1%} of COPY (goal >= 25%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
